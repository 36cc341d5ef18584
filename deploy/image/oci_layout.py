#!/usr/bin/env python3
"""Writes an OCI image layout archive from layer folders: the folders os/, jdk/ and app/ under WORK become three
gzip'd tar layers (sorted entries, fixed times, so the same inputs give the same digests), with the image config
(entrypoint, user, port) below, the manifest, index.json and oci-layout, all tarred into OUT.
    oci_layout.py WORK OUT
"""
import gzip, hashlib, io, json, os, sys, tarfile

EPOCH = 1735689600  # 2025-01-01, as the Maven build's outputTimestamp
ENTRYPOINT = [
    "/opt/java/bin/java", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
    "--sun-misc-unsafe-memory-access=allow",
    "-Dfelix.fileinstall.dir=/etc/tessera", "-Dtessera.home=/opt/tessera",
    "-Dorg.osgi.framework.storage=/tmp/tessera-framework", "-Dgosh.home=/opt/tessera/distribution/gosh",
    "-Dgosh.args=--nointeractive --noshutdown", "-Dorg.jline.terminal.dumb=true",
    "-jar", "/opt/tessera/tessera.jar",
]


def layer(folder):
    """A reproducible gzip'd tar of the folder's tree; returns (compressed bytes, sha256 of the plain tar)."""
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                info = tar.gettarinfo(path, os.path.relpath(path, folder))
                info.mtime = EPOCH
                info.uname = info.gname = ""
                if info.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    data = plain.getvalue()
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=EPOCH) as gz:
        gz.write(data)
    return compressed.getvalue(), "sha256:" + hashlib.sha256(data).hexdigest()


def main(work, out):
    blobs = {}

    def blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    layers, diff_ids = [], []
    for name in ("os", "jdk", "app"):
        data, diff_id = layer(os.path.join(work, name))
        layers.append(blob(data, "application/vnd.oci.image.layer.v1.tar+gzip"))
        diff_ids.append(diff_id)
    config = {
        "created": "2025-01-01T00:00:00Z", "architecture": "amd64", "os": "linux",
        "config": {
            "User": "10001:10001", "WorkingDir": "/opt/tessera", "Entrypoint": ENTRYPOINT,
            "Env": ["JAVA_HOME=/opt/java", "PATH=/opt/java/bin:/usr/bin:/bin"],
            "ExposedPorts": {"8080/tcp": {}}, "Volumes": {"/etc/tessera": {}},
            "StopSignal": "SIGTERM",
            "Labels": {"org.opencontainers.image.title": "tessera",
                       "org.opencontainers.image.description": "Tessera node: the embedded model on the CPU backend, "
                       "OpenAI API on port 8080, configuration in /etc/tessera, probes /health and /health/ready"},
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2025-01-01T00:00:00Z", "created_by": "deploy/image/build.sh: " + n}
                    for n in ("os", "jdk", "app")],
    }
    config_desc = blob(json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": layers}
    manifest_desc = blob(json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": "tessera:latest"}
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [manifest_desc]}

    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
            tar.addfile(info, io.BytesIO(data))
        add("oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        add("index.json", json.dumps(index, sort_keys=True).encode())
        for digest, data in sorted(blobs.items()):
            add("blobs/sha256/" + digest.split(":")[1], data)
    total = sum(l["size"] for l in layers)
    print(f"image: {out} ({total / 2**20:.1f} MiB in {len(layers)} layers), manifest {manifest_desc['digest']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
