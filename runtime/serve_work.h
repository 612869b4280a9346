/*
** The executor as the work of `iex serve`'s workers (runtime/serve.h's
** ServeWork): each worker thread gets its own Executor on its own Store
** handle, made at its first step; a step turns pending inbox events into
** transfers (one worker at a time) and then claims and runs at most one
** due run, so webhooks, polls and imports become invoices while the
** server runs.
**
**   ServeOptions o = {...};
**   o.work = serve_work_executor();
**   serve_run(&o, &err);
**   serve_work_free();          after serve_run() returned
*/
#ifndef IEX_RUNTIME_SERVE_WORK_H
#define IEX_RUNTIME_SERVE_WORK_H

#include "runtime/serve.h"

/* The work hook; its state is the process's (one `iex serve` per process). */
ServeWork serve_work_executor(void);
/* Free the workers' executors (after serve_run() returned). */
void serve_work_free(void);

#endif /* IEX_RUNTIME_SERVE_WORK_H */
