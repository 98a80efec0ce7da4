/**
 * FFM bindings to native libraries (SentencePiece shim, CUDA driver, cuBLAS), one class per native header,
 * in the shape jextract emits: static downcall handles, layouts and wrapper methods, and no logic.
 * The bindings arrive with the issues that need them.
 */
package dev.univar.bindings;
