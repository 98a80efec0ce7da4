package dev.univar.corpus;

/** One answer of one LLM to one question, in one language. */
public record QaPair(String questionId, String question, String answer, String model, String lang) {
    public Key key() {
        return new Key(model, lang);
    }

    /** The pair as UniVaR writes it inside a view. */
    public String asViewLine() {
        return "Q: " + question + " A: " + answer;
    }
}
