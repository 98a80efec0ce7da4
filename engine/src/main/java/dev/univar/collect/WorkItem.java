package dev.univar.collect;

/** One answer to collect: a question in one language, sample {@code sample} (0-based) of {@code --samples}. */
public record WorkItem(Question question, int sample) {
    public Key key(String model) {
        return new Key(model, question.id(), question.lang(), sample);
    }

    /**
     * What makes an answer unique in an output file. The model is part of it so several LLMs can be collected
     * into one corpus file, one run after the other.
     */
    public record Key(String model, String questionId, String lang, int sample) {
    }
}
