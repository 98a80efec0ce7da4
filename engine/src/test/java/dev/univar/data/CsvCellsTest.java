package dev.univar.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class CsvCellsTest {
    @Test
    void formulaTriggersArePrefixedWithAQuote() {
        for (String cell : new String[]{"=cmd|' /C calc'!A0", "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "="})
            assertEquals("'" + cell, CsvCells.text(cell), cell);
    }

    @Test
    void otherTextIsUnchanged() {
        for (String cell : new String[]{"", "gpt-4", "HuggingFaceH4/zephyr-7b-beta", " =x", "'=x", "x=1", "a\tb", "0.5"})
            assertSame(cell, CsvCells.text(cell), cell);
    }
}
