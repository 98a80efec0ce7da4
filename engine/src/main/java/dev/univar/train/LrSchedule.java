package dev.univar.train;

/**
 * UniVaR's learning-rate schedule: linear warm-up from 0 to the peak over {@code warmup} steps, then
 * inverse-square-root decay, {@code peak * sqrt(warmup / step)}. Steps count from 1 (the first update).
 */
public record LrSchedule(double peak, int warmup) {
    public LrSchedule {
        if (!(peak > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + peak);
        if (warmup < 0) throw new IllegalArgumentException("warm-up steps must be >= 0, got " + warmup);
    }

    public double at(long step) {
        if (step < 1) throw new IllegalArgumentException("steps count from 1");
        if (warmup > 0 && step <= warmup) return peak * step / warmup;
        return peak * Math.sqrt(Math.max(1, warmup) / (double) Math.max(step, Math.max(1, warmup)));
    }
}
