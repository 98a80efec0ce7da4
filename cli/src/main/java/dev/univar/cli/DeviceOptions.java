package dev.univar.cli;

import dev.univar.tensor.Precision;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --device} and {@code --precision}, shared by the commands that run the encoder. */
final class DeviceOptions {
    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda",
            description = "Where the encoder runs: cpu, or cuda (an NVIDIA GPU through its driver and cuBLAS; "
                    + "cuda:N for the N-th). Default: ${DEFAULT-VALUE}.")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|tf32|bf16", converter = PrecisionConverter.class,
            description = "Arithmetic of the dense products: fp32, or tf32/bf16 tensor-core products with float32 "
                    + "accumulation (cuda only; the cpu computes in fp32). Default: ${DEFAULT-VALUE}.")
    Precision precision;

    /** The device these options name, with {@code threads} CPU threads. */
    Device device(int threads) {
        return Device.parse(device, precision, threads);
    }

    /** Turns "fp32", "tf32", "bf16" into a {@link Precision}; anything else is a usage error listing those. */
    static final class PrecisionConverter implements CommandLine.ITypeConverter<Precision> {
        @Override
        public Precision convert(String value) {
            try {
                return Precision.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
