/*
** The executor behind `iex serve`'s workers (runtime/serve_work.h).
*/
#include <pthread.h>
#include <stdlib.h>

#include "common/util.h"
#include "runtime/executor.h"
#include "runtime/serve_work.h"

/* One executor per worker's Store (an Executor uses the Store it was
** given from one thread). */
typedef struct Slot {
  Store *store;
  Executor *x;
} Slot;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* Accepting events is one worker's job at a time, so that two workers do
** not both turn one event into a revision. */
static pthread_mutex_t accepting = PTHREAD_MUTEX_INITIALIZER;
static Slot *slots;
static size_t n_slots, cap_slots;

static Executor *executor_of(Store *store) {
  Executor *x = NULL;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < n_slots && !x; i++)
    if (slots[i].store == store) x = slots[i].x;
  if (!x) {
    ExecutorOptions opt = {.quiet = true};
    x = executor_new(store, &opt);
    Slot s = {store, x};
    VEC_PUSH(slots, n_slots, cap_slots, s);
  }
  pthread_mutex_unlock(&lock);
  return x;
}

static IexStatus step(void *ctx, Store *store, const char *worker_id,
                      bool *did_work, Err *err) {
  (void)ctx;
  (void)worker_id;
  Executor *x = executor_of(store);
  ExecutorStats st = {0};
  IexStatus rc = IEX_OK;
  if (pthread_mutex_trylock(&accepting) == 0) {
    rc = executor_recover(x, err);
    if (rc == IEX_OK) rc = executor_accept_pending(x, &st, err);
    pthread_mutex_unlock(&accepting);
  }
  if (rc == IEX_OK) rc = executor_run_due(x, 1, &st, err);
  *did_work = st.events + st.unchanged + st.runs > 0;
  return rc;
}

ServeWork serve_work_executor(void) { return (ServeWork){NULL, step}; }

void serve_work_free(void) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < n_slots; i++) executor_free(slots[i].x);
  free(slots);
  slots = NULL;
  n_slots = cap_slots = 0;
  pthread_mutex_unlock(&lock);
}
