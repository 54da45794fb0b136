/* strategy_set_result_json: the evaluation result in the shape the signals
 * stage puts into SignalGenerated (see strategy_set.h). */
#include <jansson.h>

#include "alchemiser/trading/strategy_set.h"

static json_t	*weights_json(const struct dsl_weight *w, size_t n);

static json_t *
weights_json(const struct dsl_weight *w, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_set_new(o, w[i].ticker, json_real(w[i].weight));
	return o;
}

json_t *
strategy_set_result_json(const struct strategy_set_result *r, size_t max_trace_lines)
{
	json_t *root = json_object(), *arr = json_array();
	size_t i, j;

	for (i = 0; i < r->ns; i++) {
		const struct strategy_outcome *o = &r->s[i];
		json_t *s = json_object();

		json_object_set_new(s, "file", json_string(o->file));
		json_object_set_new(s, "weight", json_real(o->weight));
		json_object_set_new(s, "status", json_string(o->status == 0 ? "ok" : "failed"));
		if (o->status < 0)
			json_object_set_new(s, "error", json_string(o->error != NULL ? o->error : ""));
		json_object_set_new(s, "allocation", weights_json(o->result.w, o->result.n));
		if (max_trace_lines > 0) {
			json_t *t = json_array();

			for (j = 0; j < o->result.ntrace && j < max_trace_lines; j++)
				json_array_append_new(t, json_string(o->result.trace[j]));
			json_object_set_new(s, "trace", t);
			if (o->result.ntrace > max_trace_lines)
				json_object_set_new(s, "trace_omitted",
				    json_integer((json_int_t)(o->result.ntrace - max_trace_lines)));
		}
		json_array_append_new(arr, s);
	}
	json_object_set_new(root, "strategies", arr);
	json_object_set_new(root, "target_weights", weights_json(r->w, r->n));
	json_object_set_new(root, "failed", json_integer((json_int_t)r->nfailed));
	return root;
}
