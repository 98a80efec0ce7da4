/**
 * Models by name from the Hugging Face Hub: {@code ORG/NAME[@REVISION]} resolved to a commit, its files downloaded
 * (resumable, verified, retried, one process per blob) into the Hub's own cache layout, which Python's
 * {@code huggingface_hub} shares, and loaded from the snapshot folder as a local model.
 *
 * <ul>
 * <li>{@link HubSettings}: {@code HF_ENDPOINT}, {@code HF_TOKEN}, {@code HF_HUB_CACHE}/{@code HF_HOME},
 * {@code HF_HUB_OFFLINE}, read through {@link HubSettings#env} (a {@code univar.env.NAME} system property stands in
 * for the variable NAME: tests cannot set environment variables in-process).</li>
 * <li>{@link HubCache}: the layout ({@code models--ORG--NAME/{blobs,snapshots,refs}}, {@code .locks/}).</li>
 * <li>{@link HubClient}: the Hub's HTTP routes, redirects, retries, resumed and verified downloads.</li>
 * <li>{@link HubModels}: which files a model needs, and the whole resolve-download-link sequence.</li>
 * </ul>
 */
package dev.univar.hub;
