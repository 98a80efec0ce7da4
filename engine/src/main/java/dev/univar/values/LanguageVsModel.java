package dev.univar.values;

import java.util.Locale;

/**
 * Whether a representation encodes the language of an answer more than the LLM that wrote it (the paper's analysis
 * beside identification): the same views identified once by LLM and once by language. Accuracies over different
 * numbers of classes are compared above chance, {@code (acc - 1/n) / (1 - 1/n)}: 0 is guessing, 1 is perfect.
 */
public record LanguageVsModel(double modelAccuracy, int models, double languageAccuracy, int languages) {
    /** Scores closer than this are reported as a tie. */
    static final double TIE = 0.05;

    public static double aboveChance(double accuracy, int classes) {
        double chance = 1.0 / classes;
        return (accuracy - chance) / (1 - chance);
    }

    public double modelScore() {
        return aboveChance(modelAccuracy, models);
    }

    public double languageScore() {
        return aboveChance(languageAccuracy, languages);
    }

    /** "language", "LLM" or "neither" (within {@value #TIE} of each other). */
    public String dominant() {
        double d = languageScore() - modelScore();
        return Math.abs(d) < TIE ? "neither" : d > 0 ? "language" : "LLM";
    }

    /** One sentence saying which dominates, with both scores. */
    public String verdict() {
        String scores = String.format(Locale.ROOT, "language %.2f, LLM %.2f above chance", languageScore(), modelScore());
        return switch (dominant()) {
            case "language" -> "The representation encodes language more than LLM (" + scores + ").";
            case "LLM" -> "The representation encodes the LLM more than language (" + scores + ").";
            default -> "The representation encodes language and LLM about equally (" + scores + ").";
        };
    }
}
