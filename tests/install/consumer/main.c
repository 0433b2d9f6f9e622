/* Uses the installed qgnn C API: rejects a bad buffer with a message, and (given a .qgnn path) loads the
 * model, prints its facts, sizes an arena and classifies a 3-node graph. Exit 0 on success. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qgnn/qgnn.h>

static int check_rejects_garbage(void) {
  static _Alignas(16) uint8_t garbage[64];
  memset(garbage, 0xA5, sizeof(garbage));
  qgnn_model* model = NULL;
  qgnn_error error;
  memset(&error, 0, sizeof(error));
  qgnn_status status = qgnn_model_create(garbage, sizeof(garbage), &model, &error);
  if (status == QGNN_OK || model != NULL) {
    fprintf(stderr, "consumer: garbage was accepted as a model\n");
    qgnn_model_delete(model);
    return 1;
  }
  printf("garbage rejected: %s: %s\n", qgnn_status_name(status), error.message);
  return 0;
}

/* One invoke on a 3-node path graph 0 - 1 - 2 (row i lists the in-neighbours of node i). */
static int classify_path_graph(const qgnn_model* model, const qgnn_model_info* info,
                               const qgnn_plan_limits* limits, size_t arena_bytes) {
  static const int32_t row_ptr[] = {0, 1, 3, 4};
  static const int32_t col_idx[] = {1, 0, 2, 1};
  size_t count = 3 * (size_t)info->input_dim;
  float* features = malloc(count * sizeof(float));
  int8_t* features_i8 = malloc(count);
  void* arena = aligned_alloc(16, (arena_bytes + 15) & ~(size_t)15);
  qgnn_interpreter* interpreter = NULL;
  qgnn_error error;
  int32_t predicted[3] = {-1, -1, -1};
  int rc = 1;
  if (!features || !features_i8 || !arena) {
    fprintf(stderr, "consumer: out of memory\n");
    goto done;
  }
  for (size_t i = 0; i < count; ++i) {
    features[i] = 0.5f;
    features_i8[i] = (int8_t)info->input_zero_point;
  }
  qgnn_graph graph = {3, 4, 1, row_ptr, col_idx, NULL, NULL, NULL};
  if (info->input_is_int8) {
    graph.features_i8 = features_i8;
  } else {
    graph.features_f32 = features;
  }
  if (qgnn_interpreter_create(model, limits, arena, arena_bytes, NULL, &interpreter, &error) != QGNN_OK ||
      qgnn_interpreter_setup(interpreter, &graph, &error) != QGNN_OK ||
      qgnn_interpreter_invoke(interpreter, &error) != QGNN_OK) {
    fprintf(stderr, "consumer: %s: %s\n", qgnn_status_name(error.status), error.message);
    goto done;
  }
  if (qgnn_interpreter_argmax(interpreter, predicted, 3) != QGNN_OK) {
    fprintf(stderr, "consumer: qgnn_interpreter_argmax failed\n");
    goto done;
  }
  if (info->task == QGNN_TASK_GRAPH_CLASSIFICATION) {
    printf("path graph: class %d (%s)\n", predicted[0], qgnn_model_class_name(model, (uint32_t)predicted[0]));
  } else {
    printf("path graph: node classes %d %d %d\n", predicted[0], predicted[1], predicted[2]);
  }
  rc = 0;
done:
  qgnn_interpreter_delete(interpreter);
  free(arena);
  free(features_i8);
  free(features);
  return rc;
}

static int load_model(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "consumer: cannot open %s\n", path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  if (size <= 0) {
    fclose(f);
    fprintf(stderr, "consumer: empty file %s\n", path);
    return 1;
  }
  size_t padded = ((size_t)size + 15) & ~(size_t)15;
  void* data = aligned_alloc(16, padded);
  if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
    fclose(f);
    free(data);
    fprintf(stderr, "consumer: cannot read %s\n", path);
    return 1;
  }
  fclose(f);

  int rc = 1;
  qgnn_model* model = NULL;
  qgnn_error error;
  qgnn_model_info info;
  size_t arena = 0;
  qgnn_plan_limits limits = {64, 256, 1};
  if (qgnn_model_create(data, (size_t)size, &model, &error) != QGNN_OK) {
    fprintf(stderr, "consumer: %s: %s\n", qgnn_status_name(error.status), error.message);
  } else if (qgnn_model_get_info(model, &info) != QGNN_OK) {
    fprintf(stderr, "consumer: qgnn_model_get_info failed\n");
  } else if (qgnn_arena_size(model, &limits, &arena, &error) != QGNN_OK) {
    fprintf(stderr, "consumer: %s: %s\n", qgnn_status_name(error.status), error.message);
  } else {
    printf("model '%s': %u layers, %u -> %u, %s, arena %zu bytes for 64 nodes / 256 edges\n", info.name,
           info.num_layers, info.input_dim, info.num_classes, info.quantized ? "quantized" : "float", arena);
    rc = classify_path_graph(model, &info, &limits, arena);
  }
  qgnn_model_delete(model);
  free(data);
  return rc;
}

int main(int argc, char** argv) {
  int rc = check_rejects_garbage();
  if (rc == 0 && argc > 1) rc = load_model(argv[1]);
  if (rc == 0) printf("consumer: OK\n");
  return rc;
}
