/*
** The ledger: a target system that is a file, for tests and file drops.
**
** Connection: {"system": "ledger", "base_url": "file:/path/to/ledger"}.
** Every write appends one line to the file and fsyncs it before it
** answers, so the file outlives the process that wrote it: the crash test
** (tests/crash/) reads it as the oracle of what reached the target.
**
**   <operation> TAB <reference> TAB <record as compact JSON> LF
**
** The reference is the record's field `reference` (a write without one is
** refused, as e-conomic refuses an invoice without references.other would
** be unfindable). `find` scans the file for (operation, reference), the
** lookup that makes resending safe. Operations: customer.create,
** invoice.create, payment.create (writes) and invoice.find (reads).
**
** Faults, for tests, from the environment of the iex process:
**   IEX_LEDGER_FAULT=down      every call fails: could not reach (retry)
**   IEX_LEDGER_FAULT=busy      every call answers 429, Retry-After: 7
**   IEX_LEDGER_FAULT=lost      writes are appended but the answer is lost
**                              (outcome unknown), as after a timeout
** and per record: a field "ledger_refuse": "why" makes a write refused
** (validation error, nothing appended).
*/
#ifndef IEX_RUNTIME_LEDGER_H
#define IEX_RUNTIME_LEDGER_H

#include "connectors/connector.h"

extern const Connector connector_ledger;

#endif /* IEX_RUNTIME_LEDGER_H */
