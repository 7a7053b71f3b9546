/* export_onnx.c — the inference graph as an ONNX model, built as the structs protoc-c generates
 * from Debian's onnx.proto (libonnx-dev) and packed by libprotobuf-c.
 *
 *   input float (N, input_size): the features as detrain's data loader gives them
 *   normalization, as host/data/data.c computes it:
 *     scale        Mul(x, scale) then Add(shift): two rounded float operations, never fused
 *     standardize  Cast to double, Sub(mean), Div(std), Cast to float: (float)((x - mean) / std)
 *   per layer      Gemm(x, W (out, in), b, transB=1), then the activation:
 *                  Relu, Tanh, Sigmoid; gelu as kernels/activation.h spells it,
 *                  (0.5 z) (1 + erf(z * 0.70710678)) (the Gelu operator needs opset 20)
 *   output         Softmax(axis=-1) -> "probabilities" (N, classes) for softmax_cross_entropy,
 *                  else the last layer -> "outputs" (N, outputs)
 * Every allocation goes to one arena, freed at once; a failed one marks the arena and the
 * builders become no-ops, so the OOM check is made once, before packing. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_parts.h"
#include "onnx.pb-c.h"
#include "version.h"

/* IR version 8 is the one of ONNX 1.12's onnx.proto (Debian 12), which opset 17 goes with. */
#define DT_ONNX_IR_VERSION 8
#define MAX_NODES (6 * DT_MAX_LAYERS + 8)
#define MAX_INITIALIZERS (2 * DT_MAX_LAYERS + 8)

/* The graph being built and every block it points to. */
typedef struct {
    void **blocks;
    size_t n_blocks, cap_blocks;
    int failed;                                    /* an allocation failed: nothing more is built */
    Onnx__NodeProto *nodes[MAX_NODES];
    size_t n_nodes;
    Onnx__TensorProto *initializers[MAX_INITIALIZERS];
    size_t n_initializers;
} builder;

/* size zeroed bytes owned by the arena; NULL (and b->failed) on OOM. */
static void *alloc(builder *b, size_t size) {
    if (b->failed) return NULL;
    if (b->n_blocks == b->cap_blocks) {
        size_t cap = b->cap_blocks ? 2 * b->cap_blocks : 256;
        void **blocks = realloc(b->blocks, cap * sizeof *blocks);
        if (!blocks) return b->failed = 1, NULL;
        b->blocks = blocks, b->cap_blocks = cap;
    }
    void *block = calloc(1, size ? size : 1);
    if (!block) return b->failed = 1, NULL;
    return b->blocks[b->n_blocks++] = block;
}

/* The printf-formatted string, owned by the arena (protobuf-c wants char *); NULL on OOM. */
static char *text(builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *text(builder *b, const char *fmt, ...) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);
    char *out = n >= 0 ? alloc(b, (size_t)n + 1) : NULL;
    if (!out) return NULL;
    va_start(args, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, args);
    va_end(args);
    return out;
}

/* Frees the arena. */
static void free_builder(builder *b) {
    for (size_t i = 0; i < b->n_blocks; i++) free(b->blocks[i]);
    free(b->blocks);
}

/* Appends the node op_type(inputs) -> output (named after its output); NULL on OOM. */
static Onnx__NodeProto *add_node(builder *b, const char *op_type, int n_inputs, const char *const *inputs,
                                 const char *output) {
    Onnx__NodeProto *node = alloc(b, sizeof *node);
    char **in = alloc(b, (size_t)n_inputs * sizeof *in), **out = alloc(b, sizeof *out);
    if (!node || !in || !out || b->n_nodes == MAX_NODES) return b->failed = 1, NULL;
    onnx__node_proto__init(node);
    for (int i = 0; i < n_inputs; i++) in[i] = text(b, "%s", inputs[i]);
    out[0] = text(b, "%s", output);
    node->n_input = (size_t)n_inputs, node->input = in;
    node->n_output = 1, node->output = out;
    node->op_type = text(b, "%s", op_type);
    node->name = text(b, "%s", output);
    if (b->failed) return NULL;
    return b->nodes[b->n_nodes++] = node;
}

/* Gives node its one attribute, the integer name = value (Gemm transB, Cast to, Softmax axis). */
static void set_int_attribute(builder *b, Onnx__NodeProto *node, const char *name, int64_t value) {
    Onnx__AttributeProto *attr = alloc(b, sizeof *attr);
    Onnx__AttributeProto **list = alloc(b, sizeof *list);
    if (!node || !attr || !list) return;
    onnx__attribute_proto__init(attr);
    attr->name = text(b, "%s", name);
    attr->has_type = 1, attr->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    attr->has_i = 1, attr->i = value;
    list[0] = attr;
    node->n_attribute = 1, node->attribute = list;
}

/* Appends the initializer `name` of shape dims (rank 0: a scalar): float32 values when f32,
 * else float64 values f64, stored as little-endian raw_data. */
static void add_initializer(builder *b, const char *name, int rank, const int64_t *dims, const float *f32,
                            const double *f64) {
    size_t elements = 1;
    for (int d = 0; d < rank; d++) elements *= (size_t)dims[d];
    const size_t width = f32 ? 4 : 8;
    Onnx__TensorProto *t = alloc(b, sizeof *t);
    int64_t *shape = alloc(b, (size_t)rank * sizeof *shape);
    unsigned char *raw = alloc(b, elements * width);
    if (!t || !shape || !raw || b->n_initializers == MAX_INITIALIZERS) {
        b->failed = 1;
        return;
    }
    onnx__tensor_proto__init(t);
    if (rank) memcpy(shape, dims, (size_t)rank * sizeof *shape); /* a scalar has no dims (NULL) */
    if (f32) dt_export_f32_le(f32, elements, raw);
    else dt_export_f64_le(f64, elements, raw);
    t->name = text(b, "%s", name);
    t->n_dims = (size_t)rank, t->dims = shape;
    t->has_data_type = 1;
    t->data_type = f32 ? ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT : ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    t->has_raw_data = 1, t->raw_data.len = elements * width, t->raw_data.data = raw;
    b->initializers[b->n_initializers++] = t;
}

/* A float32 scalar initializer. */
static void add_scalar(builder *b, const char *name, float value) { add_initializer(b, name, 0, NULL, &value, NULL); }

/* A graph input or output: float32 (N, columns), N left symbolic; NULL on OOM. */
static Onnx__ValueInfoProto *value_info(builder *b, const char *name, int64_t columns) {
    Onnx__ValueInfoProto *info = alloc(b, sizeof *info);
    Onnx__TypeProto *type = alloc(b, sizeof *type);
    Onnx__TypeProto__Tensor *tensor = alloc(b, sizeof *tensor);
    Onnx__TensorShapeProto *shape = alloc(b, sizeof *shape);
    Onnx__TensorShapeProto__Dimension **dims = alloc(b, 2 * sizeof *dims);
    Onnx__TensorShapeProto__Dimension *rows = alloc(b, sizeof *rows), *cols = alloc(b, sizeof *cols);
    if (b->failed) return NULL;
    onnx__value_info_proto__init(info);
    onnx__type_proto__init(type);
    onnx__type_proto__tensor__init(tensor);
    onnx__tensor_shape_proto__init(shape);
    onnx__tensor_shape_proto__dimension__init(rows);
    onnx__tensor_shape_proto__dimension__init(cols);
    rows->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, rows->dim_param = text(b, "N");
    cols->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, cols->dim_value = columns;
    dims[0] = rows, dims[1] = cols;
    shape->n_dim = 2, shape->dim = dims;
    tensor->has_elem_type = 1, tensor->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, tensor->shape = shape;
    type->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, type->tensor_type = tensor;
    info->name = text(b, "%s", name), info->type = type;
    return info;
}

/* The normalization nodes from "input"; returns the name of the normalized features. */
static const char *add_normalization(builder *b, const dt_checkpoint *ck) {
    const dt_config *cfg = ck->cfg;
    if (cfg->data.normalize == DT_NORM_SCALE) {
        add_scalar(b, "normalize.scale", cfg->data.scale);
        add_scalar(b, "normalize.shift", cfg->data.shift);
        add_node(b, "Mul", 2, (const char *[]){"input", "normalize.scale"}, "normalize.scaled");
        add_node(b, "Add", 2, (const char *[]){"normalize.scaled", "normalize.shift"}, "normalized");
        return "normalized";
    }
    if (cfg->data.normalize == DT_NORM_STANDARDIZE) {
        const int64_t dims[1] = {ck->net.input_size};
        add_initializer(b, "normalize.mean", 1, dims, NULL, ck->norm_mean);
        add_initializer(b, "normalize.std", 1, dims, NULL, ck->norm_std);
        set_int_attribute(b, add_node(b, "Cast", 1, (const char *[]){"input"}, "normalize.f64"), "to",
                          ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE);
        add_node(b, "Sub", 2, (const char *[]){"normalize.f64", "normalize.mean"}, "normalize.centred");
        add_node(b, "Div", 2, (const char *[]){"normalize.centred", "normalize.std"}, "normalize.standardized");
        set_int_attribute(b, add_node(b, "Cast", 1, (const char *[]){"normalize.standardized"}, "normalized"), "to",
                          ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
        return "normalized";
    }
    return "input";
}

/* Layer l's Gemm and activation from `in` to the tensor named `out`. */
static void add_layer(builder *b, const dt_checkpoint *ck, int l, const char *in, const char *out) {
    const dt_layer *layer = &ck->net.layers[l];
    char weight[32], bias[32], z[32], half_z[48], scaled[48], erf_out[48], one_plus[48];
    snprintf(weight, sizeof weight, "layers.%d.weight", l);
    snprintf(bias, sizeof bias, "layers.%d.bias", l);
    snprintf(z, sizeof z, "layers.%d.z", l);
    const int64_t w_dims[2] = {layer->n_out, layer->n_in}, b_dims[1] = {layer->n_out};
    add_initializer(b, weight, 2, w_dims, ck->state.params + layer->weight_offset, NULL);
    add_initializer(b, bias, 1, b_dims, ck->state.params + layer->bias_offset, NULL);
    const char *gemm_out = layer->activation == DT_ACT_IDENTITY ? out : z;
    set_int_attribute(b, add_node(b, "Gemm", 3, (const char *[]){in, weight, bias}, gemm_out), "transB", 1);
    switch ((dt_activation)layer->activation) {
    case DT_ACT_IDENTITY: break;
    case DT_ACT_RELU: add_node(b, "Relu", 1, (const char *[]){z}, out); break;
    case DT_ACT_TANH: add_node(b, "Tanh", 1, (const char *[]){z}, out); break;
    case DT_ACT_SIGMOID: add_node(b, "Sigmoid", 1, (const char *[]){z}, out); break;
    case DT_ACT_GELU:
        snprintf(half_z, sizeof half_z, "layers.%d.gelu.half_z", l);
        snprintf(scaled, sizeof scaled, "layers.%d.gelu.scaled", l);
        snprintf(erf_out, sizeof erf_out, "layers.%d.gelu.erf", l);
        snprintf(one_plus, sizeof one_plus, "layers.%d.gelu.one_plus_erf", l);
        add_node(b, "Mul", 2, (const char *[]){z, "gelu.half"}, half_z);
        add_node(b, "Mul", 2, (const char *[]){z, "gelu.rsqrt2"}, scaled);
        add_node(b, "Erf", 1, (const char *[]){scaled}, erf_out);
        add_node(b, "Add", 2, (const char *[]){erf_out, "gelu.one"}, one_plus);
        add_node(b, "Mul", 2, (const char *[]){half_z, one_plus}, out);
        break;
    }
}

/* The model's metadata_props: the pairs of dt_export_metadata. */
static void set_metadata(builder *b, Onnx__ModelProto *model, const dt_checkpoint *ck, const char *certificates) {
    cJSON *meta = dt_export_metadata(ck, certificates);
    const int n = meta ? cJSON_GetArraySize(meta) : 0;
    Onnx__StringStringEntryProto **props = alloc(b, (size_t)n * sizeof *props);
    if (!meta || !props) {
        b->failed = 1;
        cJSON_Delete(meta);
        return;
    }
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, meta) {
        Onnx__StringStringEntryProto *entry = alloc(b, sizeof *entry);
        if (!entry) break;
        onnx__string_string_entry_proto__init(entry);
        entry->key = text(b, "%s", item->string);
        entry->value = text(b, "%s", cJSON_GetStringValue(item));
        props[i++] = entry;
    }
    model->n_metadata_props = (size_t)i, model->metadata_props = props;
    cJSON_Delete(meta);
}

dt_status dt_export_onnx(const dt_checkpoint *ck, const char *origin, const char *certificates, unsigned char **data,
                         size_t *size, dt_error *err) {
    *data = NULL, *size = 0;
    if (ck->cfg->data.normalize == DT_NORM_STANDARDIZE && (!ck->norm_mean || !ck->norm_std))
        return dt_fail(err, DT_INTERNAL, "%s: standardize without the moments", origin);
    const int classifier = ck->cfg->loss.kind == DT_LOSS_SOFTMAX_CE;
    builder b;
    memset(&b, 0, sizeof b);
    int has_gelu = 0;
    for (int l = 0; l < ck->net.n_layers; l++) has_gelu |= ck->net.layers[l].activation == DT_ACT_GELU;
    if (has_gelu) {
        add_scalar(&b, "gelu.half", 0.5f);
        add_scalar(&b, "gelu.rsqrt2", 0.70710678118654752f);
        add_scalar(&b, "gelu.one", 1.0f);
    }
    const char *x = add_normalization(&b, ck);
    char layer_out[2][32];
    for (int l = 0; l < ck->net.n_layers; l++) {
        char *out = layer_out[l % 2];
        if (l == ck->net.n_layers - 1) snprintf(out, 32, "%s", classifier ? "logits" : "outputs");
        else snprintf(out, 32, "layers.%d.y", l);
        add_layer(&b, ck, l, x, out);
        x = out;
    }
    if (classifier) set_int_attribute(&b, add_node(&b, "Softmax", 1, (const char *[]){x}, "probabilities"), "axis", -1);

    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    Onnx__ValueInfoProto *input = value_info(&b, "input", ck->net.input_size);
    Onnx__ValueInfoProto *output = value_info(&b, classifier ? "probabilities" : "outputs", ck->net.n_outputs);
    graph.name = text(&b, "detrain");
    graph.doc_string = text(&b, "input: the features as detrain's data loader gives them, before normalization "
                                "(%s); output: %s", dt_norm_name(ck->cfg->data.normalize),
                            classifier ? "softmax probabilities" : "the model's outputs");
    graph.n_node = b.n_nodes, graph.node = b.nodes;
    graph.n_initializer = b.n_initializers, graph.initializer = b.initializers;
    graph.n_input = 1, graph.input = &input;
    graph.n_output = 1, graph.output = &output;

    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset};
    opset.domain = text(&b, "%s", ""); /* the default ONNX domain */
    opset.has_version = 1, opset.version = DT_EXPORT_ONNX_OPSET;
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = 1, model.ir_version = DT_ONNX_IR_VERSION;
    model.n_opset_import = 1, model.opset_import = opsets;
    model.producer_name = text(&b, "detrain");
    model.producer_version = text(&b, "%s", DT_VERSION);
    model.graph = &graph;
    set_metadata(&b, &model, ck, certificates);

    dt_status status = DT_OK;
    if (b.failed) status = dt_fail(err, DT_NOMEM, "out of memory building the ONNX graph of %s", origin);
    else {
        const size_t packed = onnx__model_proto__get_packed_size(&model);
        *data = malloc(packed ? packed : 1);
        if (!*data) status = dt_fail(err, DT_NOMEM, "out of memory for the ONNX file of %s", origin);
        else *size = onnx__model_proto__pack(&model, *data);
    }
    free_builder(&b);
    return status;
}
