package dev.univar.values;

/**
 * Classification metrics from ranked predictions: accuracy@k, per-class precision/recall/F1, weighted and macro
 * F1 (as scikit-learn computes them: weights are true-class supports; a class never predicted has precision 0),
 * and the confusion matrix of top-1 predictions ({@code confusion[true][predicted]}).
 */
public record Metrics(double[] accuracyAt, double precisionWeighted, double recallWeighted, double f1Weighted,
                      double f1Macro, int[][] confusion) {

    /** Accuracy@k for k = 1..numLabels is {@code accuracyAt[k-1]}. */
    public double accuracy(int k) {
        return accuracyAt[Math.min(k, accuracyAt.length) - 1];
    }

    public static Metrics of(int[][] ranked, int[] truth, int numLabels) {
        int n = truth.length;
        double[] acc = new double[numLabels];
        int[][] confusion = new int[numLabels][numLabels];
        for (int i = 0; i < n; i++) {
            int pos = 0;
            while (ranked[i][pos] != truth[i]) pos++;
            for (int k = pos; k < numLabels; k++) acc[k]++;
            confusion[truth[i]][ranked[i][0]]++;
        }
        for (int k = 0; k < numLabels; k++) acc[k] = n == 0 ? 0 : acc[k] / n;
        double pw = 0, rw = 0, fw = 0, fm = 0;
        int present = 0;
        for (int c = 0; c < numLabels; c++) {
            int tp = confusion[c][c], support = 0, predicted = 0;
            for (int j = 0; j < numLabels; j++) {
                support += confusion[c][j];
                predicted += confusion[j][c];
            }
            double p = predicted == 0 ? 0 : (double) tp / predicted, r = support == 0 ? 0 : (double) tp / support;
            double f = p + r == 0 ? 0 : 2 * p * r / (p + r);
            pw += p * support;
            rw += r * support;
            fw += f * support;
            if (support > 0 || predicted > 0) {
                fm += f;
                present++;
            }
        }
        return new Metrics(acc, n == 0 ? 0 : pw / n, n == 0 ? 0 : rw / n, n == 0 ? 0 : fw / n,
                present == 0 ? 0 : fm / present, confusion);
    }
}
