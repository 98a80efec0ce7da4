package dev.univar.cli;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The few drawing operations the charts need, drawn either into a PNG (java.awt, headless) or written as SVG by
 * hand. Every string reaching the SVG is XML-escaped: labels come from the corpus.
 */
sealed interface Canvas permits Canvas.Png, Canvas.Svg {
    enum Anchor { START, MIDDLE, END }

    /** Marker shapes, one per language. */
    enum Shape { CIRCLE, SQUARE, TRIANGLE, DIAMOND, TRIANGLE_DOWN }

    void rect(double x, double y, double w, double h, Color fill, Color stroke);

    void line(double x1, double y1, double x2, double y2, Color colour, double width);

    void marker(Shape shape, double x, double y, double size, Color fill, Color stroke);

    /** Text with its baseline at y; {@code rotate} in degrees, about (x, y). */
    void text(double x, double y, String s, double size, Color colour, Anchor anchor, boolean bold, double rotate);

    byte[] finish();

    static Canvas forExtension(String ext, int width, int height) {
        return ext.equals("svg") ? new Svg(width, height) : new Png(width, height);
    }

    static Path2D shape(Shape s, double x, double y, double size) {
        double r = size / 2;
        Path2D p = new Path2D.Double();
        switch (s) {
            case CIRCLE -> p.append(new Ellipse2D.Double(x - r, y - r, size, size), false);
            case SQUARE -> p.append(new Rectangle2D.Double(x - r * 0.9, y - r * 0.9, 1.8 * r, 1.8 * r), false);
            case TRIANGLE -> { p.moveTo(x, y - r * 1.1); p.lineTo(x + r, y + r * 0.8); p.lineTo(x - r, y + r * 0.8); p.closePath(); }
            case TRIANGLE_DOWN -> { p.moveTo(x, y + r * 1.1); p.lineTo(x + r, y - r * 0.8); p.lineTo(x - r, y - r * 0.8); p.closePath(); }
            case DIAMOND -> { p.moveTo(x, y - r * 1.2); p.lineTo(x + r, y); p.lineTo(x, y + r * 1.2); p.lineTo(x - r, y); p.closePath(); }
        }
        return p;
    }

    final class Png implements Canvas {
        static {
            System.setProperty("java.awt.headless", "true"); // no display on servers and in tests
        }

        private final BufferedImage image;
        private final Graphics2D g;

        Png(int width, int height) {
            image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            g = image.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
        }

        @Override
        public void rect(double x, double y, double w, double h, Color fill, Color stroke) {
            Rectangle2D r = new Rectangle2D.Double(x, y, w, h);
            if (fill != null) { g.setColor(fill); g.fill(r); }
            if (stroke != null) { g.setColor(stroke); g.setStroke(new BasicStroke(1f)); g.draw(r); }
        }

        @Override
        public void line(double x1, double y1, double x2, double y2, Color colour, double width) {
            g.setColor(colour);
            g.setStroke(new BasicStroke((float) width));
            g.draw(new java.awt.geom.Line2D.Double(x1, y1, x2, y2));
        }

        @Override
        public void marker(Shape s, double x, double y, double size, Color fill, Color stroke) {
            Path2D p = shape(s, x, y, size);
            g.setColor(fill);
            g.fill(p);
            if (stroke != null) { g.setColor(stroke); g.setStroke(new BasicStroke(0.6f)); g.draw(p); }
        }

        @Override
        public void text(double x, double y, String s, double size, Color colour, Anchor anchor, boolean bold, double rotate) {
            Font f = new Font(Font.SANS_SERIF, bold ? Font.BOLD : Font.PLAIN, (int) Math.round(size));
            g.setFont(f);
            FontMetrics fm = g.getFontMetrics();
            double w = fm.stringWidth(s), dx = anchor == Anchor.START ? 0 : anchor == Anchor.MIDDLE ? -w / 2 : -w;
            AffineTransform saved = g.getTransform();
            g.translate(x, y);
            if (rotate != 0) g.rotate(Math.toRadians(rotate));
            g.setColor(colour);
            g.drawString(s, (float) dx, 0f);
            g.setTransform(saved);
        }

        @Override
        public byte[] finish() {
            g.dispose();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try {
                ImageIO.write(image, "png", out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toByteArray();
        }
    }

    final class Svg implements Canvas {
        private final StringBuilder sb = new StringBuilder();

        Svg(int width, int height) {
            sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>%n",
                    width, height, width, height));
        }

        private static String c(Color c) {
            if (c == null) return "none";
            return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
        }

        private static String opacity(Color fill) {
            return fill == null || fill.getAlpha() == 255 ? "" : String.format(Locale.ROOT, " fill-opacity=\"%.2f\"", fill.getAlpha() / 255.0);
        }

        @Override
        public void rect(double x, double y, double w, double h, Color fill, Color stroke) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" stroke=\"%s\"/>%n",
                    x, y, w, h, c(fill), c(stroke)));
        }

        @Override
        public void line(double x1, double y1, double x2, double y2, Color colour, double width) {
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"%.2f\"/>%n",
                    x1, y1, x2, y2, c(colour), width));
        }

        @Override
        public void marker(Shape s, double x, double y, double size, Color fill, Color stroke) {
            if (s == Shape.CIRCLE) {
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\" fill=\"%s\"%s stroke=\"%s\" stroke-width=\"0.6\"/>%n",
                        x, y, size / 2, c(fill), opacity(fill), c(stroke)));
                return;
            }
            StringBuilder d = new StringBuilder();
            var it = shape(s, x, y, size).getPathIterator(null);
            double[] p = new double[6];
            while (!it.isDone()) {
                int type = it.currentSegment(p);
                if (type == java.awt.geom.PathIterator.SEG_CLOSE) d.append("Z");
                else d.append(String.format(Locale.ROOT, "%s%.2f %.2f ", type == java.awt.geom.PathIterator.SEG_MOVETO ? "M" : "L", p[0], p[1]));
                it.next();
            }
            sb.append(String.format(Locale.ROOT, "<path d=\"%s\" fill=\"%s\"%s stroke=\"%s\" stroke-width=\"0.6\"/>%n", d, c(fill), opacity(fill), c(stroke)));
        }

        @Override
        public void text(double x, double y, String s, double size, Color colour, Anchor anchor, boolean bold, double rotate) {
            String a = switch (anchor) { case START -> "start"; case MIDDLE -> "middle"; case END -> "end"; };
            sb.append(String.format(Locale.ROOT, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" fill=\"%s\" text-anchor=\"%s\"%s%s>",
                    x, y, size, c(colour), a, bold ? " font-weight=\"bold\"" : "",
                    rotate != 0 ? String.format(Locale.ROOT, " transform=\"rotate(%.1f %.2f %.2f)\"", rotate, x, y) : ""));
            sb.append(Outputs.xml(s)).append("</text>\n");
        }

        @Override
        public byte[] finish() {
            return (sb + "</svg>\n").getBytes(StandardCharsets.UTF_8);
        }
    }
}
