package dev.univar.data;

/** Cells for the CSV files univar writes, which people open in spreadsheets. */
public final class CsvCells {
    private CsvCells() {
    }

    /**
     * A text cell made safe to open in a spreadsheet (OWASP's CSV-injection rule): text that starts with
     * {@code =}, {@code +}, {@code -}, {@code @}, a tab or a carriage return gets a leading {@code '} so that it is
     * shown as text instead of run as a formula. Only for text from the input (model names, languages, question
     * ids), never for numbers we format ourselves, so {@code -0.5} stays a number.
     */
    public static String text(String cell) {
        if (cell.isEmpty()) return cell;
        return switch (cell.charAt(0)) {
            case '=', '+', '-', '@', '\t', '\r' -> "'" + cell;
            default -> cell;
        };
    }
}
