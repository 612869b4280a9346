/*
** Named crash points: the test build can kill itself at a chosen moment.
**
** crash_point(CRASH_EFFECT_STARTED) counts a hit of that point; when the
** environment holds IEX_CRASH_AT=effect_started:3 and this is the third hit
** in this process, the process raises SIGKILL there and then, as a power
** cut or kill -9 would end it: no atexit handlers, no flushing.
** IEX_CRASH_AT=effect_started means the first hit. The names are listed
** once in runtime/crashpoints.def.
**
** Only the test build (IEX_DEBUG) has crash points. In a release build
** crash_point() expands to nothing, so it costs nothing and can never fire
** in production.
*/
#ifndef IEX_RUNTIME_CRASH_H
#define IEX_RUNTIME_CRASH_H

typedef enum CrashPoint {
#define CRASHPOINT(id, name) CRASH_##id,
#include "runtime/crashpoints.def"
#undef CRASHPOINT
  CRASH__COUNT
} CrashPoint;

/* The name of a point as IEX_CRASH_AT spells it ("effect_started"). */
const char *crash_point_name(CrashPoint point);

#ifdef IEX_DEBUG
/* Count a hit of `point`; raise SIGKILL if IEX_CRASH_AT names this hit.
** IEX_CRASH_AT is read once, at the first hit of any point; a value that
** does not parse or names no point is a fatal error, so that a misspelt
** test cannot pass by never crashing. */
void crash_hit(CrashPoint point);
#define crash_point(point) crash_hit(point)
/* Forget the hits counted so far and read IEX_CRASH_AT again at the next
** hit: for a test that forks a child and arms it with setenv(). */
void crash_reset(void);
#else
#define crash_point(point) ((void)0)
#define crash_reset() ((void)0)
#endif

#endif /* IEX_RUNTIME_CRASH_H */
