package io.tessera.engine;

/**
 * A cost in seconds, linear in a few features (the first always 1, then rows, distinct experts, ...), fitted by
 * recursive least squares with forgetting, so it follows a machine whose speed changes (other load, a hot swap).
 * Until it has seen anything it predicts 0; the prior gives the constant a wide variance and the slopes a narrow
 * one, so that until the features have varied the cost is explained by the constant: an unmeasured
 * configuration looks no dearer than a measured one, gets tried, and so gets measured.
 */
final class LinearCost {
    private static final double FORGET = 0.98;   // about the last 50 observations count
    private static final double CONSTANT_PRIOR = 100; // prior variances: seconds²,
    private static final double SLOPE_PRIOR = 1e-2;   // and seconds² per unit² of a feature (0.1 s per row)

    private final int features;
    private final double[] weights;
    private final double[][] covariance;
    private final double[] gain;
    private final double[] px;
    private long observations;

    LinearCost(int features) {
        this.features = features;
        weights = new double[features];
        covariance = new double[features][features];
        for (int i = 0; i < features; i++) {
            covariance[i][i] = i == 0 ? CONSTANT_PRIOR : SLOPE_PRIOR;
        }
        gain = new double[features];
        px = new double[features];
    }

    /** Adds one measurement: {@code seconds} for features {@code x}. */
    void observe(double[] x, double seconds) {
        // forget only while the uncertainty is below the prior's: a feature that stays constant for long (decode
        // steps of one row) must not wind its variance up without bound
        double forget = FORGET;
        for (int i = 0; i < features; i++) {
            forget = covariance[i][i] < (i == 0 ? CONSTANT_PRIOR : SLOPE_PRIOR) ? forget : 1;
        }
        double denominator = forget;
        for (int i = 0; i < features; i++) {
            double s = 0;
            for (int j = 0; j < features; j++) {
                s += covariance[i][j] * x[j];
            }
            px[i] = s;
            denominator += x[i] * s;
        }
        double error = seconds - predict(x);
        for (int i = 0; i < features; i++) {
            gain[i] = px[i] / denominator;
            weights[i] += gain[i] * error;
        }
        for (int i = 0; i < features; i++) {
            for (int j = 0; j < features; j++) {
                covariance[i][j] = (covariance[i][j] - gain[i] * px[j]) / forget;
            }
        }
        observations++;
    }

    /** The predicted seconds for features {@code x}, never negative. */
    double predict(double[] x) {
        double s = 0;
        for (int i = 0; i < features; i++) {
            s += weights[i] * x[i];
        }
        return Math.max(0, s);
    }

    long observations() {
        return observations;
    }
}
