package dev.univar.model;

import dev.univar.tensor.Tensor;
import dev.univar.text.Batch;

/**
 * An architecture's encoder: token ids to last hidden states, written once against {@link Ops} so that the same
 * forward serves inference ({@link Encoder}) and training ({@link TrainingGraph}), with its backward beside it (as
 * llm.c pairs each forward with its backward). It owns its activation buffers, sized for the largest batch seen and
 * reused; at inference the layers share one set, in training each layer keeps its own for the backward. Not
 * thread-safe: one graph per thread of work.
 */
public interface EncoderGraph extends AutoCloseable {

    /**
     * Sets the weights the graph computes with, as a {@link Binder} gives them (for this graph's mode: see
     * {@link Ops#bind}). Called before the first forward and again whenever the bound form is stale.
     */
    void bind(Binder weights);

    /**
     * Runs the encoder over {@code batch}, whose mask (1 real token, 0 padding) is already in {@code mask}
     * ({@code [batch·seq]}). Returns the last hidden state {@code [batch·seq, hidden]}, owned by the graph and
     * overwritten by the next call.
     */
    Tensor forward(Batch batch, Tensor mask);

    /**
     * Training: the backward of the last {@link #forward} (same batch and mask). {@code dHidden}, the gradient of the
     * loss with respect to the last hidden state, may be overwritten; the gradient of every parameter is accumulated
     * into {@code grads} (bound with {@link Binder#of} over gradient {@link Weights}).
     */
    void backward(Batch batch, Tensor mask, Tensor dHidden, Binder grads);

    @Override
    void close();
}
