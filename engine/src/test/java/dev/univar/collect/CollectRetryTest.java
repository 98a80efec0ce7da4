package dev.univar.collect;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** Durations of the command line, backoff, and the endpoint URL. */
class CollectRetryTest {
    @Test
    void durations() {
        assertEquals(Duration.ofMillis(500), Durations.parse("500ms"));
        assertEquals(Duration.ofSeconds(60), Durations.parse("60s"));
        assertEquals(Duration.ofMinutes(2), Durations.parse("2m"));
        assertEquals(Duration.ofMillis(1500), Durations.parse("1.5s"));
        assertEquals("2m", Durations.format(Duration.ofMinutes(2)));
        assertEquals("500ms", Durations.format(Duration.ofMillis(500)));
        for (String bad : new String[]{"60", "s", "-1s", "0ms", "1 parsec"})
            assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
    }

    @Test
    void backoffDoublesWithJitterUpToTheCapAndRetryAfterIsAFloor() {
        RetryPolicy p = new RetryPolicy(6, Duration.ofSeconds(1), Duration.ofSeconds(10));
        Random r = new Random(1);
        for (int i = 0; i < 200; i++) {
            for (int attempt = 1; attempt <= 8; attempt++) {
                long full = Math.min(1000L << (attempt - 1), 10_000);
                long d = p.delay(attempt, null, r).toMillis();
                assertTrue(d >= full / 2 && d <= full, attempt + ": " + d);
            }
            assertEquals(Duration.ofSeconds(30), p.delay(1, Duration.ofSeconds(30), r));
        }
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO));
        assertEquals(Duration.ZERO, new RetryPolicy(3, Duration.ZERO, Duration.ZERO).delay(40, null, r));
    }

    @Test
    void completionsUriFollowsOpenAiClients() {
        assertEquals("http://localhost:8000/v1/chat/completions", ChatClient.completionsUri("http://localhost:8000/v1").toString());
        assertEquals("https://api.example.com/v1/chat/completions", ChatClient.completionsUri("https://api.example.com/v1/").toString());
        assertThrows(IllegalArgumentException.class, () -> ChatClient.completionsUri("localhost:8000"));
        assertThrows(IllegalArgumentException.class, () -> ChatClient.completionsUri("ftp://x/v1"));
    }
}
