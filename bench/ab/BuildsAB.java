import java.lang.foreign.Arena;
import java.lang.reflect.*;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.*;

/**
 * Two builds of univar timed against each other in one JVM, each in its own class loader, runs interleaved pair by
 * pair (A then B, then B then A), so that a load that comes and goes on a shared machine slows both alike: the
 * MiniLM encoder forward at 32 × 128 (pooled, CpuBackend, 2 threads) and the training graph's forward + backward at
 * 16 × 128 (CpuTrainingBackend, 2 threads), after 25 s of warm-up each. Works with builds from before the model
 * layer (dev.univar.nn.BertTrainingGraph) and after it (dev.univar.model.TrainingGraph).
 *
 * <pre>
 * ./mvnw -o -q -B -pl bench -am -DskipTests package dependency:build-classpath -Dmdep.outputFile=/tmp/cp-a.txt   # in each checkout
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED bench/ab/BuildsAB.java \
 *     "$(cat /tmp/cp-a.txt)" "$(cat /tmp/cp-b.txt)" ~/.cache/univar/models/all-minilm-l6-v2 40 [ab|ba|aa]
 * </pre>
 * {@code ab} builds A's objects first, {@code ba} B's first, {@code aa} times A against a second copy of itself
 * (the size of the bias that order alone gives).
 */
public class BuildsAB {
    static Object call(Object target, String name, Object... args) throws Exception {
        Class<?> c = target instanceof Class<?> k ? k : target.getClass();
        for (Class<?> k = c; k != null; k = k.getSuperclass())
            for (Method m : k.getDeclaredMethods())
                if (m.getName().equals(name) && m.getParameterCount() == args.length && compatible(m.getParameterTypes(), args)) {
                    m.setAccessible(true);
                    return m.invoke(target instanceof Class<?> ? null : target, args);
                }
        for (Class<?> i : c.getInterfaces())
            for (Method m : i.getMethods())
                if (m.getName().equals(name) && m.getParameterCount() == args.length && compatible(m.getParameterTypes(), args))
                    return m.invoke(target, args);
        throw new NoSuchMethodException(c + "." + name);
    }
    static boolean compatible(Class<?>[] p, Object[] a) {
        for (int i = 0; i < p.length; i++) {
            if (a[i] == null) continue;
            Class<?> w = p[i].isPrimitive() ? switch (p[i].getName()) { case "int" -> Integer.class; case "long" -> Long.class; case "double" -> Double.class; case "boolean" -> Boolean.class; default -> Float.class; } : p[i];
            if (!w.isInstance(a[i])) return false;
        }
        return true;
    }
    static Object make(ClassLoader l, String cls, Object... args) throws Exception {
        for (Constructor<?> k : l.loadClass(cls).getConstructors())
            if (k.getParameterCount() == args.length && compatible(k.getParameterTypes(), args)) return k.newInstance(args);
        throw new NoSuchMethodException(cls);
    }

    record Version(String name, Runnable encoder, Runnable train) {}

    static Version version(String name, String cp, Path model) throws Exception {
        URL[] urls = Arrays.stream(cp.split(":")).map(s -> { try { return Path.of(s).toUri().toURL(); } catch (Exception e) { throw new RuntimeException(e); } }).toArray(URL[]::new);
        ClassLoader l = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
        boolean layer;
        try {
            l.loadClass("dev.univar.model.TrainingGraph");
            layer = true;
        } catch (ClassNotFoundException e) {
            layer = false;
        }
        Object cpu = make(l, "dev.univar.cpu.CpuBackend", 2);
        Object em = call(l.loadClass("dev.univar.nn.EmbeddingModel"), "load", model, cpu);
        Object enc = call(em, "encoder");
        Class<?> bench = l.loadClass("dev.univar.perf.Bench");
        Object cfg = call(em, "config");
        int vocab = (Integer) call(cfg, "vocabSize"), hidden = (Integer) call(cfg, "hiddenSize");
        Object batch = call(bench, "randomBatch", 32, 128, vocab, 7L);
        Runnable encoder = () -> { try { call(enc, "forwardPooled", batch); } catch (Exception e) { throw new RuntimeException(e); } };
        Object tb = make(l, "dev.univar.cpu.CpuTrainingBackend", 2);
        Arena arena = Arena.ofShared();
        Object graph, grads;
        if (layer) {
            Object loaded = call(l.loadClass("dev.univar.model.Weights"), "open", model);
            Object w = call(call(loaded, "weights"), "copy", arena, tb);
            graph = make(l, "dev.univar.model.TrainingGraph", w, tb);
            grads = make(l, "dev.univar.model.Gradients", cfg, tb);
        } else {
            Object loaded = call(l.loadClass("dev.univar.io.BertWeights"), "open", model);
            Object w = call(l.loadClass("dev.univar.nn.BertParameters"), "copyOf", call(loaded, "weights"), arena, tb);
            graph = make(l, "dev.univar.nn.BertTrainingGraph", cfg, w, tb);
            grads = make(l, "dev.univar.nn.BertGradients", cfg, tb);
        }
        Object tbatch = call(bench, "randomBatch", 16, 128, vocab, 7L);
        Class<?> tensor = l.loadClass("dev.univar.tensor.Tensor");
        float[] d = new float[16 * hidden];
        Random r = new Random(3);
        for (int i = 0; i < d.length; i++) d[i] = r.nextFloat() * 2 - 1;
        Object dEmb = call(tensor, "of", arena, d, new int[]{16, hidden});
        Runnable train = () -> { try { call(graph, "forward", tbatch); call(graph, "backward", dEmb, grads); } catch (Exception e) { throw new RuntimeException(e); } };
        return new Version(name, encoder, train);
    }

    static double time(Runnable r) { long t = System.nanoTime(); r.run(); return (System.nanoTime() - t) / 1e6; }

    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[2]);
        int rounds = Integer.parseInt(a[3]);
        String mode = a.length > 4 ? a[4] : "ab";
        Version base, now;
        if (mode.equals("aa")) { base = version("A", a[0], model); now = version("A'", a[0], model); }
        else if (mode.equals("ba")) { now = version("B", a[1], model); base = version("A", a[0], model); }
        else { base = version("A", a[0], model); now = version("B", a[1], model); }
        for (String what : List.of("encoder 32x128", "train fwd+bwd 16x128")) {
            boolean enc = what.startsWith("encoder");
            long end = System.nanoTime() + 25_000_000_000L;
            while (System.nanoTime() < end) { (enc ? base.encoder : base.train).run(); (enc ? now.encoder : now.train).run(); }
            double[] tb = new double[rounds], tn = new double[rounds], ratio = new double[rounds];
            for (int i = 0; i < rounds; i++) {
                Runnable rb = enc ? base.encoder : base.train, rn = enc ? now.encoder : now.train;
                if (i % 2 == 0) { tb[i] = time(rb); tn[i] = time(rn); } else { tn[i] = time(rn); tb[i] = time(rb); }
                ratio[i] = tn[i] / tb[i];
            }
            Arrays.sort(tb); Arrays.sort(tn); Arrays.sort(ratio);
            System.out.printf(Locale.ROOT, "%s, %s, %d interleaved pairs: %s median %.1f ms (min %.1f), %s median %.1f ms (min %.1f); time %s/%s per pair: median %.3f%n",
                    what, mode, rounds, base.name, tb[rounds / 2], tb[0], now.name, tn[rounds / 2], tn[0], now.name, base.name, ratio[rounds / 2]);
        }
        System.exit(0);
    }
}
