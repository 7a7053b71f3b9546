/* synthetic.c — seed-made classification data (see synthetic.h for the exact rule). */
#include "synthetic.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"

void dt_synthetic_fill(float *values, int64_t n, uint64_t seed, uint32_t index) {
    const dt_philox_key key = dt_rng_key(seed, DT_RNG_SYNTHETIC, index);
    for (int64_t e = 0; e < n; e++) values[e] = 2.0f * dt_rng_init_uniform(key, (uint64_t)e) - 1.0f;
}

dt_status dt_synthetic_dataset(dt_dataset *ds, int64_t n_samples, int32_t n_features, int32_t n_classes,
                               uint64_t seed, dt_error *err) {
    memset(ds, 0, sizeof *ds);
    const size_t n_values = (size_t)n_samples * (size_t)n_features;
    ds->features = malloc(n_values * sizeof(float) + 1);
    ds->labels = malloc((size_t)n_samples * sizeof(int32_t) + 1);
    if (!ds->features || !ds->labels) {
        dt_dataset_free(ds);
        return dt_fail(err, DT_NOMEM, "out of memory for %lld synthetic samples of %d features", (long long)n_samples,
                       n_features);
    }
    ds->n_samples = n_samples;
    ds->n_features = n_features;
    dt_synthetic_fill(ds->features, (int64_t)n_values, seed, DT_SYNTHETIC_FEATURES);
    const int32_t scored = n_classes < n_features ? n_classes : n_features;
    for (int64_t s = 0; s < n_samples; s++) {
        const float *row = ds->features + (size_t)s * (size_t)n_features;
        int32_t best = 0;
        for (int32_t c = 1; c < scored; c++)
            if (row[c] > row[best]) best = c;
        ds->labels[s] = best;
    }
    return DT_OK;
}
