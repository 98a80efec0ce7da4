package dev.univar.collect;

import java.util.Objects;

/**
 * One question in one language. {@code id} is unique within its language and shared by the translations of the same
 * question; {@code group} ties together questions that must land in the same split (paraphrases of one original),
 * and equals {@code id} where there is no such tie.
 */
public record Question(String id, String group, String lang, String text) {
    public Question {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(lang, "lang");
        Objects.requireNonNull(text, "text");
        if (group == null || group.isEmpty()) group = id;
    }
}
