package io.tessera.engine;

import java.util.Arrays;

/**
 * A cost, linear in a few features (the first always 1, the second the rows of the call, then e.g. distinct
 * experts), fitted by least squares to the latest {@value #PER_ROWS} measurements of each row count, each row
 * count as one point: its features' mean and its times' median, weighted by how many it has. Keeping the latest
 * of every row count, rather than forgetting by age, keeps the cost of calls that are rare (a verification of four
 * rows among thousands of one-row steps) from drifting while only one-row steps come in; the median keeps one
 * slow call (a collection, a compilation) from moving it. A small ridge towards "all of it is the constant"
 * settles what the measurements leave open: until the rows have varied, more rows look no dearer, so an
 * unmeasured configuration gets tried, and so measured. Until it has seen anything it predicts 0.
 */
final class LinearCost {
    private static final int PER_ROWS = 16;
    private static final double RIDGE = 1e-6;     // of each slope's own sum of squares, plus an absolute floor
    private static final double RIDGE_FLOOR = 1e-12;

    private final int features;
    private final double[][][] kept;   // [row count][ring slot][features, then the cost]
    private final int[] seen;          // measurements of each row count so far
    private final double[] weights;
    private final double[][] normal;   // the fit's normal equations, augmented with the right-hand side
    private final double[] point;
    private final double[] costs = new double[PER_ROWS];
    private boolean fitted = true;

    /** @param maxRows row counts above it are kept with it */
    LinearCost(int features, int maxRows) {
        this.features = features;
        kept = new double[maxRows + 1][PER_ROWS][features + 1];
        seen = new int[maxRows + 1];
        weights = new double[features];
        normal = new double[features][features + 1];
        point = new double[features + 1];
    }

    /** Adds one measurement: {@code cost} for features {@code x} ({@code x[1]} the rows). */
    void observe(double[] x, double cost) {
        int rows = (int) Math.min(Math.max(0, Math.round(x[1])), kept.length - 1);
        double[] slot = kept[rows][seen[rows]++ % PER_ROWS];
        System.arraycopy(x, 0, slot, 0, features);
        slot[features] = cost;
        fitted = false;
    }

    /** The predicted cost for features {@code x}, never negative. */
    double predict(double[] x) {
        if (!fitted) {
            fit();
        }
        double s = 0;
        for (int i = 0; i < features; i++) {
            s += weights[i] * x[i];
        }
        return Math.max(0, s);
    }

    /** The median of the kept costs of {@code rows} rows; NaN if none. */
    double median(int rows) {
        int n = Math.min(seen[rows], PER_ROWS);
        for (int k = 0; k < n; k++) {
            costs[k] = kept[rows][k][features];
        }
        return n == 0 ? Double.NaN : median(costs, n);
    }

    /** Every kept cost times {@code factor}: a change of units. */
    void scale(double factor) {
        for (int rows = 0; rows < kept.length; rows++) {
            for (int k = Math.min(seen[rows], PER_ROWS) - 1; k >= 0; k--) {
                kept[rows][k][features] *= factor;
            }
        }
        fitted = false;
    }

    /** The median of {@code values[0..n)}, n > 0; reorders them. */
    static double median(double[] values, int n) {
        Arrays.sort(values, 0, n);
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /** Ridge least squares over the row counts' points, by Gaussian elimination with partial pivoting. */
    private void fit() {
        for (double[] row : normal) {
            Arrays.fill(row, 0);
        }
        for (int rows = 0; rows < kept.length; rows++) {
            int n = Math.min(seen[rows], PER_ROWS);
            if (n == 0) {
                continue;
            }
            Arrays.fill(point, 0);
            for (int k = 0; k < n; k++) {
                for (int i = 0; i < features; i++) {
                    point[i] += kept[rows][k][i] / n;
                }
            }
            point[features] = median(rows);
            for (int i = 0; i < features; i++) {
                for (int j = 0; j <= features; j++) {
                    normal[i][j] += n * point[i] * point[j];
                }
            }
        }
        for (int i = 1; i < features; i++) {
            normal[i][i] += RIDGE * normal[i][i] + RIDGE_FLOOR;
        }
        normal[0][0] += RIDGE_FLOOR;
        for (int c = 0; c < features; c++) {
            int pivot = c;
            for (int r = c + 1; r < features; r++) {
                pivot = Math.abs(normal[r][c]) > Math.abs(normal[pivot][c]) ? r : pivot;
            }
            double[] swap = normal[c];
            normal[c] = normal[pivot];
            normal[pivot] = swap;
            for (int r = c + 1; r < features; r++) {
                double f = normal[r][c] / normal[c][c];
                for (int j = c; j <= features; j++) {
                    normal[r][j] -= f * normal[c][j];
                }
            }
        }
        for (int c = features - 1; c >= 0; c--) {
            double s = normal[c][features];
            for (int j = c + 1; j < features; j++) {
                s -= normal[c][j] * weights[j];
            }
            weights[c] = s / normal[c][c];
        }
        fitted = true;
    }
}
