/* jobs: everything periodic, on its own thread and store connection, off the apply path:
 * the clock's jobs (automatic takedowns, breach / at-risk / late-application lines, the
 * daily summaries) every few seconds, and every log.lag_interval_s the progress lines
 * (msg=applied, msg=lag per held partition, msg=backlog), the metrics file and the systemd
 * status. A slow query here never delays consuming and applying.
 *
 * The apply side's numbers (pipeline counters, held partitions and their next offsets) are
 * owned by the main thread: the jobs thread asks for a snapshot (jobs_wants_snapshot) and the
 * main loop hands one over between batches (jobs_give_snapshot). */
#ifndef CREDSYNC_JOBS_H
#define CREDSYNC_JOBS_H

#include <stdbool.h>

#include <librdkafka/rdkafka.h>

#include "calendar.h"
#include "config.h"
#include "kafka.h"
#include "metrics.h"
#include "pipeline.h"
#include "rules.h"
#include "store.h"

typedef struct jobs jobs;

/* st: the jobs' own connection (used by the jobs thread only, closed by the caller after
 * jobs_stop). k: for the partitions' high watermarks (thread-safe). met: shared with the main
 * thread (metrics locks itself). r, cal, cfg: borrowed until the next jobs_configure.
 * NULL when out of memory. */
jobs *jobs_new(store *st, kafka *k, metrics *met, const config *cfg, const rules *r,
               const calendar *cal);
int jobs_start(jobs *j, char *err, size_t errsz);
/* Stops the thread (it finishes the job at hand) and waits for it. NULL ok. */
void jobs_stop(jobs *j);
void jobs_free(jobs *j); /* NULL ok */

/* For a reload: jobs_pause waits for the job at hand and holds the jobs still, so that the
 * caller may free the rules, calendar and configuration the jobs use and change the clock;
 * jobs_configure then gives the new ones (cfg's settings are copied) and lets the jobs run. */
void jobs_pause(jobs *j);
void jobs_configure(jobs *j, const config *cfg, const rules *r, const calendar *cal);

/* Whether the jobs thread waits for a snapshot of the apply side. */
bool jobs_wants_snapshot(jobs *j);
/* The pipeline's counters and the held partitions with their next offsets (offset field);
 * takes offsets (destroyed by jobs). */
void jobs_give_snapshot(jobs *j, const struct pipeline_stats *ps,
                        rd_kafka_topic_partition_list_t *offsets);

#endif
