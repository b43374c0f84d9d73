/* metrics: the counters of the msg=lag/applied/backlog log lines, in Prometheus's text
 * exposition format, written to a file for node_exporter's textfile collector
 * (metrics.textfile). No HTTP: the file is replaced atomically (a temporary file in the same
 * directory, then rename), so a scrape never reads half of it. */
#ifndef CREDSYNC_METRICS_H
#define CREDSYNC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "pipeline.h"
#include "store.h"
#include "store_time.h"

/* Thread-safe: the apply workers observe and count while the main thread writes. */
typedef struct metrics metrics;

/* NULL when out of memory. metrics_free(NULL) is fine. The functions below may be called from
 * different threads (the main loop notes, the jobs thread writes). */
metrics *metrics_new(void);
void metrics_free(metrics *m);

/* Notes the newest message timestamp (seconds) of each producer (credit.in.<producer>) and of
 * each site's acknowledgements (credit.ack.<site>) among msgs[0..n). */
void metrics_observe(metrics *m, rd_kafka_message_t *const *msgs, size_t n);
/* One more batch that could not be applied (and is retried). */
void metrics_batch_failed(metrics *m);

/* One held partition's offsets. */
struct metrics_partition {
	const char *topic;
	int32_t partition;
	int64_t high, next;
};

/* What one round of the progress lines saw; bl and dl are NULL when PostgreSQL could not
 * answer (their series are then left out and credsync_backlog_up is 0). */
struct metrics_view {
	const struct pipeline_stats *ps;
	const struct metrics_partition *parts;
	size_t nparts;
	const struct store_backlog *bl;
	const struct store_deadlines *dl;
	int64_t at_risk; /* dl->at_risk as the backlog line reports it */
};

/* Writes the view and what m noted to path, atomically. Returns 0, or -1 with the reason in
 * err (the old file, if any, stays). */
int metrics_write(metrics *m, const struct metrics_view *v, const char *path, char *err,
                  size_t errsz);

#endif
