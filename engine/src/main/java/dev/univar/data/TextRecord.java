package dev.univar.data;

/** One input text and the (1-based) line of its file where it starts. */
public record TextRecord(String text, long line) {
}
