package dev.univar.cli;

import java.awt.Color;
import java.util.List;
import java.util.Locale;

/** The value map (a scatter plot) and the distance heatmap, drawn on a {@link Canvas}. */
final class Charts {
    /** Tableau's ten categorical colours, then darker variants for more LLMs. */
    private static final int[] PALETTE = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f,
            0xbcbd22, 0x17becf};
    private static final Color INK = new Color(0x222222), GRID = new Color(0xdddddd);

    private Charts() {
    }

    static Color colour(int i) {
        Color c = new Color(PALETTE[i % PALETTE.length]);
        for (int round = i / PALETTE.length; round > 0; round--) c = c.darker();
        return c;
    }

    static Canvas.Shape shape(int i) {
        return Canvas.Shape.values()[i % Canvas.Shape.values().length];
    }

    /**
     * @param colourOf  each point's LLM index into {@code models}
     * @param shapeOf   each point's language index into {@code langs}
     * @param centroids labelled positions (key centroids)
     */
    static byte[] scatter(String ext, String title, double[][] xy, int[] colourOf, int[] shapeOf, List<String> models,
                          List<String> langs, List<String> centroidLabels, double[][] centroids) {
        int width = 1100, height = 760, left = 50, top = 50, plotW = 700, plotH = 660;
        Canvas c = Canvas.forExtension(ext, width, height);
        c.text(left, 30, title, 16, INK, Canvas.Anchor.START, true, 0);
        double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY, minY = minX, maxY = maxX;
        for (double[] p : xy) {
            minX = Math.min(minX, p[0]); maxX = Math.max(maxX, p[0]);
            minY = Math.min(minY, p[1]); maxY = Math.max(maxY, p[1]);
        }
        double spanX = Math.max(1e-9, maxX - minX), spanY = Math.max(1e-9, maxY - minY), pad = 0.05;
        double x0 = minX - pad * spanX, sx = plotW / (spanX * (1 + 2 * pad)), y0 = minY - pad * spanY, sy = plotH / (spanY * (1 + 2 * pad));
        c.rect(left, top, plotW, plotH, null, GRID);
        // Points in a seeded shuffled order, half transparent: no LLM is systematically hidden under another.
        Integer[] order = new Integer[xy.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Collections.shuffle(java.util.Arrays.asList(order), new java.util.Random(12345));
        for (int i : order) {
            Color col = colour(colourOf[i]);
            c.marker(shape(shapeOf[i]), left + (xy[i][0] - x0) * sx, top + plotH - (xy[i][1] - y0) * sy, 6,
                    new Color(col.getRed(), col.getGreen(), col.getBlue(), 170), null);
        }
        // Centroid labels: greedy placement, each moved down until it no longer overlaps one already placed.
        List<double[]> placed = new java.util.ArrayList<>();
        Integer[] byY = new Integer[centroids.length];
        for (int k = 0; k < byY.length; k++) byY[k] = k;
        java.util.Arrays.sort(byY, java.util.Comparator.comparingDouble(k -> -centroids[k][1]));
        for (int k : byY) {
            double px = left + (centroids[k][0] - x0) * sx, py = top + plotH - (centroids[k][1] - y0) * sy;
            c.marker(Canvas.Shape.DIAMOND, px, py, 14, Color.WHITE, INK);
            double tx = px + 9, ty = py - 6, w = 7.2 * centroidLabels.get(k).length(), h = 15;
            boolean moved = true;
            while (moved) {
                moved = false;
                for (double[] b : placed)
                    if (tx < b[0] + b[2] && b[0] < tx + w && ty - h < b[1] && b[1] - b[3] < ty) {
                        ty = b[1] + h;
                        moved = true;
                    }
            }
            placed.add(new double[]{tx, ty, w, h});
            if (Math.abs(ty - (py - 6)) > 1) c.line(px, py, tx, ty - 4, GRID.darker(), 0.8);
            c.text(tx, ty, centroidLabels.get(k), 12, INK, Canvas.Anchor.START, true, 0);
        }
        double lx = left + plotW + 30, ly = top + 10;
        c.text(lx, ly, "LLM", 13, INK, Canvas.Anchor.START, true, 0);
        for (int m = 0; m < models.size(); m++) {
            ly += 22;
            c.marker(Canvas.Shape.CIRCLE, lx + 6, ly - 4, 10, colour(m), colour(m).darker());
            c.text(lx + 18, ly, models.get(m), 12, INK, Canvas.Anchor.START, false, 0);
        }
        ly += 36;
        c.text(lx, ly, "Language", 13, INK, Canvas.Anchor.START, true, 0);
        for (int l = 0; l < langs.size(); l++) {
            ly += 22;
            c.marker(shape(l), lx + 6, ly - 4, 10, Color.GRAY, INK);
            c.text(lx + 18, ly, langs.get(l), 12, INK, Canvas.Anchor.START, false, 0);
        }
        ly += 36;
        c.marker(Canvas.Shape.DIAMOND, lx + 6, ly - 4, 12, Color.WHITE, INK);
        c.text(lx + 18, ly, "key centroid", 12, INK, Canvas.Anchor.START, false, 0);
        return c.finish();
    }

    /** A symmetric matrix as coloured cells (white = 0, dark blue = the largest value), labels on both axes. */
    static byte[] heatmap(String ext, String title, List<String> labels, double[][] m) {
        int n = labels.size();
        int cell = Math.max(14, Math.min(56, 640 / Math.max(1, n)));
        int labelW = 16 + (int) Math.ceil(6.2 * labels.stream().mapToInt(String::length).max().orElse(4));
        int left = labelW, top = 50 + labelW, width = left + n * cell + 140, height = top + n * cell + 30;
        Canvas c = Canvas.forExtension(ext, width, height);
        c.text(10, 30, title, 16, INK, Canvas.Anchor.START, true, 0);
        double max = 1e-12;
        for (double[] row : m) for (double v : row) max = Math.max(max, v);
        for (int i = 0; i < n; i++) {
            c.text(left - 6, top + i * cell + cell / 2.0 + 4, labels.get(i), 11, INK, Canvas.Anchor.END, false, 0);
            c.text(left + i * cell + cell / 2.0 + 4, top - 6, labels.get(i), 11, INK, Canvas.Anchor.START, false, -90);
            for (int j = 0; j < n; j++) {
                double t = Math.max(0, m[i][j]) / max;
                Color col = ramp(t);
                c.rect(left + j * cell, top + i * cell, cell, cell, col, Color.WHITE);
                if (cell >= 34)
                    c.text(left + j * cell + cell / 2.0, top + i * cell + cell / 2.0 + 4, format(m[i][j]), 9,
                            t > 0.55 ? Color.WHITE : INK, Canvas.Anchor.MIDDLE, false, 0);
            }
        }
        int bx = left + n * cell + 30, bh = Math.max(60, n * cell);
        for (int s = 0; s < 50; s++) c.rect(bx, top + bh * s / 50.0, 18, bh / 50.0 + 1, ramp(1 - s / 49.0), null);
        c.text(bx + 24, top + 10, format(max), 10, INK, Canvas.Anchor.START, false, 0);
        c.text(bx + 24, top + bh, "0", 10, INK, Canvas.Anchor.START, false, 0);
        return c.finish();
    }

    /**
     * Accuracy against the number of answers per decision: one line per series (a model and a method), x at the
     * sizes measured (evenly spaced, labelled by size), y from 0 to 100 %, a dashed line at chance.
     *
     * @param values {@code values[series][i]} in [0, 1] at {@code sizes.get(i)}, NaN where not measured
     */
    static byte[] lines(String ext, String title, List<Integer> sizes, List<String> series, double[][] values, double chance) {
        int left = 60, top = 44, plotW = 360, plotH = 220, legendW = 12 + (int) Math.ceil(7.0 * series.stream().mapToInt(String::length).max().orElse(8));
        int width = left + plotW + 30 + legendW, height = Math.max(top + plotH + 50, top + 22 * series.size() + 20);
        Canvas c = Canvas.forExtension(ext, width, height);
        c.text(left, 26, title, 14, INK, Canvas.Anchor.START, true, 0);
        c.rect(left, top, plotW, plotH, null, GRID);
        for (int pct = 0; pct <= 100; pct += 20) {
            double y = top + plotH - plotH * pct / 100.0;
            c.line(left, y, left + plotW, y, GRID, 0.6);
            c.text(left - 6, y + 4, pct + "%", 10, INK, Canvas.Anchor.END, false, 0);
        }
        int n = sizes.size();
        double step = n > 1 ? (plotW - 40.0) / (n - 1) : 0;
        for (int i = 0; i < n; i++)
            c.text(left + 20 + i * step, top + plotH + 16, String.valueOf(sizes.get(i)), 11, INK, Canvas.Anchor.MIDDLE, false, 0);
        c.text(left + plotW / 2.0, top + plotH + 36, "answers per decision", 11, INK, Canvas.Anchor.MIDDLE, false, 0);
        double cy = top + plotH - plotH * chance;
        for (double x = left; x < left + plotW; x += 8) c.line(x, cy, Math.min(x + 4, left + plotW), cy, Color.GRAY, 0.8);
        c.text(left + plotW - 4, cy - 4, "chance", 9, Color.GRAY, Canvas.Anchor.END, false, 0);
        for (int s = 0; s < series.size(); s++) {
            Color col = colour(s);
            double px = Double.NaN, py = Double.NaN;
            for (int i = 0; i < n; i++) {
                double v = values[s][i];
                if (Double.isNaN(v)) continue;
                double x = left + 20 + i * step, y = top + plotH - plotH * Math.max(0, Math.min(1, v));
                if (!Double.isNaN(px)) c.line(px, py, x, y, col, 2);
                c.marker(shape(s), x, y, 8, col, col.darker());
                px = x;
                py = y;
            }
            double ly = top + 10 + 22 * s;
            c.marker(shape(s), left + plotW + 36, ly - 4, 9, col, col.darker());
            c.text(left + plotW + 48, ly, series.get(s), 11, INK, Canvas.Anchor.START, false, 0);
        }
        return c.finish();
    }

    private static Color ramp(double t) {
        t = Math.max(0, Math.min(1, t));
        return new Color((int) Math.round(255 + t * (8 - 255)), (int) Math.round(255 + t * (48 - 255)), (int) Math.round(255 + t * (107 - 255)));
    }

    static String format(double v) {
        return Math.abs(v) >= 0.01 || v == 0 ? String.format(Locale.ROOT, "%.3f", v) : String.format(Locale.ROOT, "%.1e", v);
    }
}
