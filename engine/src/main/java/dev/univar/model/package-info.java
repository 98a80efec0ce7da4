/**
 * The architecture-neutral model layer: what a model is, independent of which transformer it is.
 *
 * <ul>
 * <li>{@link dev.univar.model.ModelConfig}: a {@code config.json}, parsed into the sealed config type of its
 * architecture, chosen by {@code model_type} in one place ({@link dev.univar.model.ModelConfig#fromJson}).</li>
 * <li>{@link dev.univar.model.Weights}: the parameters as a name → tensor map, checked against the config
 * (missing tensor, wrong shape, NaN); each {@link dev.univar.model.Param} carries its kind, and with it its flags
 * (weight decay, initialisation). {@link dev.univar.model.Gradients} and the optimizer state have the same form.</li>
 * <li>{@link dev.univar.model.Binder}: how an architecture's weight view declares its parameters once and gets
 * them bound: as they are (training, gradients), packed for the backend (inference), or only listed.</li>
 * <li>{@link dev.univar.model.Ops}: the operations an encoder is written with, in inference or training mode;
 * {@link dev.univar.model.EncoderGraph}: an architecture's one forward and its backward.</li>
 * <li>{@link dev.univar.model.Encoder} (inference: pooling, normalisation) and
 * {@link dev.univar.model.TrainingGraph} (training: the same plus the backward) run any architecture.</li>
 * </ul>
 *
 * <p>An architecture is three files here: its config record ({@link dev.univar.model.BertConfig}: listed in
 * {@code ModelConfig}'s {@code permits} and {@code fromJson} switch), its weight view
 * ({@link dev.univar.model.BertWeights}: every parameter's checkpoint name and shape, written once) and its encoder
 * ({@link dev.univar.model.BertEncoder}); plus, in {@link dev.univar.model.Ops} and the backends, the operations it
 * needs that no architecture had before. Nothing else changes: loading, {@code embed}, {@code train}, {@code init},
 * the optimizer, checkpoints and {@code bench} go through this layer.
 */
package dev.univar.model;
