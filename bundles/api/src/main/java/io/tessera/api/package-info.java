/**
 * Value types shared by every Tessera service: dtypes and checkpoint tensors.
 *
 * <h2>Versioning</h2>
 * Every api package follows semantic versioning, checked by bnd baselining in the build against the released
 * 0.1.0 artifact ({@code cnf/baseline}): the build fails when a package changes without the version step
 * below. This package holds only final value types (records and enums), so:
 * <ul>
 * <li>a new type, a new static method or constant, or a new record component with the record's previous
 *     constructor kept beside the new one: minor step (0.1.0 → 0.2.0);</li>
 * <li>a changed or removed member (a record's constructor among them): major step.</li>
 * </ul>
 * How the steps work for interfaces is in {@link io.tessera.api.kernel}'s description; a package's version
 * steps at most once per release, however many changes it gathers.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("0.1.0")
package io.tessera.api;
