/* inspect.c — detrain inspect: what a checkpoint holds, every digest verified. */
#include "inspect.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fsutil.h"
#include "manifest.h"
#include "runrec.h"

/* Prints the metadata block of a checkpoint that was read. */
static void print_metadata(const char *path, const dt_checkpoint *ck) {
    const dt_train_progress *p = &ck->progress;
    const dt_config *cfg = ck->cfg;
    char bits1[9], bits2[9];
    dt_float_bits_hex(p->counters.beta1_pow, bits1);
    dt_float_bits_hex(p->counters.beta2_pow, bits2);
    printf("checkpoint %s\n", path);
    printf("  format           %s version %d\n", DT_CHECKPOINT_FORMAT, ck->format_version);
    printf("  written by       detrain %s (commit %s%s)\n", ck->detrain_version, ck->git_commit,
           ck->git_dirty ? ", dirty" : "");
    printf("  step             %" PRIu64 " of %lld\n", p->counters.step, (long long)p->total_steps);
    if (p->epoch >= cfg->train.epochs)
        printf("  epoch            all %d epochs done\n", cfg->train.epochs);
    else
        printf("  epoch            %d of %d, position %lld of %lld samples (%lld of %lld steps); accuracy counts %lld/%lld\n",
               p->epoch + 1, cfg->train.epochs, (long long)p->position, (long long)ck->train_samples,
               (long long)(p->position / cfg->train.batch_size), (long long)p->steps_per_epoch, (long long)p->correct,
               (long long)p->seen);
    printf("  optimizer        %s, beta1^t %.9g (bits %s), beta2^t %.9g (bits %s)\n",
           dt_optimizer_name(cfg->optimizer.kind), (double)p->counters.beta1_pow, bits1,
           (double)p->counters.beta2_pow, bits2);
    printf("  model            %d inputs", ck->net.input_size);
    for (int l = 0; l < ck->net.n_layers; l++)
        printf(" -> %d %s", ck->net.layers[l].n_out, dt_activation_name(ck->net.layers[l].activation));
    printf(", %lld parameters, loss %s\n", (long long)ck->net.n_params, dt_loss_name(cfg->loss.kind));
    printf("  seed             %llu (mode %s)\n", (unsigned long long)cfg->seed, dt_mode_name(cfg->runtime.mode));
    printf("  config_sha256    %s\n", ck->config_sha256);
    printf("  params_sha256    %s\n", ck->params_sha256);
    const struct {
        const char *name;
        int64_t samples;
        int n;
        const dt_file_record *files;
    } sets[2] = {{"train", ck->train_samples, ck->n_train_files, ck->train_files},
                 {"test", ck->test_samples, ck->n_test_files, ck->test_files}};
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < sets[d].n; i++)
            printf("  data.%-5s       %lld samples: %s (%lld bytes, sha256 %s)\n", sets[d].name,
                   (long long)sets[d].samples, sets[d].files[i].path, (long long)sets[d].files[i].size_bytes,
                   sets[d].files[i].sha256);
}

/* Prints the tensor table. */
static void print_tensors(const dt_checkpoint *ck) {
    printf("tensors (%d):\n", ck->n_tensors);
    printf("  %-28s %-12s %-8s %-64s %s\n", "name", "shape", "dtype", "sha256", "status");
    for (int i = 0; i < ck->n_tensors; i++) {
        const dt_tensor_info *t = &ck->tensors[i];
        char shape[48];
        if (t->rank == 2) snprintf(shape, sizeof shape, "%llux%llu", (unsigned long long)t->dims[0], (unsigned long long)t->dims[1]);
        else snprintf(shape, sizeof shape, "%llu", (unsigned long long)t->dims[0]);
        printf("  %-28s %-12s %-8s %-64s %s\n", t->name, shape, t->dtype, t->recorded_sha256,
               t->ok ? "ok" : "MISMATCH");
        if (!t->ok) printf("  %-28s %-12s %-8s %-64s %s\n", "", "", "", t->computed_sha256, "(computed)");
    }
}

/* When path lies in a run folder whose manifest lists it, checks the file's bytes against
 * the recorded SHA-256 and prints the outcome. */
static dt_status check_against_manifest(const char *path, dt_error *err) {
    char dir_copy[DT_PATH_MAX], base_copy[DT_PATH_MAX];
    snprintf(dir_copy, sizeof dir_copy, "%s", path);
    snprintf(base_copy, sizeof base_copy, "%s", path);
    const char *dir = dirname(dir_copy), *base = basename(base_copy);
    dt_run_record rec;
    dt_error ignored;
    dt_status status = DT_OK;
    if (dt_run_record_load(dir, &rec, &ignored) != DT_OK) {
        dt_run_record_free(&rec);
        printf("  file             not in a run folder (no manifest.json beside it)\n");
        return DT_OK;
    }
    const cJSON *entry, *found = NULL;
    cJSON_ArrayForEach(entry, cJSON_GetObjectItemCaseSensitive(rec.manifest, "checkpoints"))
        if (!strcmp(dt_run_record_string(entry, "file"), base)) found = entry;
    char sha[65];
    if (!found) {
        printf("  file             not listed in %s/manifest.json\n", dir);
    } else if ((status = dt_file_sha256(path, sha, err)) == DT_OK) {
        const char *recorded = dt_run_record_string(found, "sha256");
        if (strcmp(sha, recorded) != 0) {
            printf("  file sha256      %s  MISMATCH: the manifest records %s\n", sha, recorded);
            status = dt_fail(err, DT_CHECKPOINT, "%s: the file's SHA-256 %.16s... differs from the one %s/manifest.json records (%.16s...)",
                             path, sha, dir, recorded);
        } else {
            printf("  file sha256      %s (as recorded in the manifest)\n", sha);
        }
    }
    dt_run_record_free(&rec);
    return status;
}

dt_status dt_inspect(const char *path, dt_error *err) {
    dt_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck) return dt_fail(err, DT_NOMEM, "out of memory");
    dt_status status = dt_checkpoint_read(path, ck, err);
    if (ck->cfg && ck->n_tensors > 0) {
        print_metadata(path, ck);
        if (status == DT_OK) status = check_against_manifest(path, err);
        print_tensors(ck);
    }
    if (status == DT_OK) printf("all %d tensor digests and the parameter digest verified\n", ck->n_tensors);
    fflush(stdout);
    dt_checkpoint_free(ck);
    free(ck);
    return status;
}
