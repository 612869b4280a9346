/*
** The Lua 5.4 escape hatch: a sandboxed lua_State per flow evaluation
** context, the conversion of Values to Lua and back, and the limits that
** the script's own pcall cannot catch (runtime/lua_bridge.h, docs/lua.md).
**
** Layout of the sandbox. G is the table of sealed globals: the allowed
** libraries (as read-only proxies) and, once a file is loaded, the file's
** functions. P is the table Lua sees as its globals (the registry's
** LUA_RIDX_GLOBALS, _ENV of every chunk): empty, with __index = G. A
** global assigned during a call lands in P and is cleared when the call
** returns, so one record's call cannot change the next one's globals.
** Loading a file runs it against P and then moves what it defined into G.
**
** Every Lua API call that may raise runs inside lua_pcall (STYLE.md 3.4.6):
** conversions run inside a protected C function, which calls the user's
** function with a second lua_pcall whose message handler finds the line.
*/
#include "runtime/lua_bridge.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/datetime.h"
#include "common/utf8.h"
#include "common/util.h"
#include "runtime/bytecode.h"
#include "runtime/vm.h"

/* The count hook fires every HOOK_STEP instructions; the budget is checked
** there, so it is enforced to within one step. A smaller step costs more
** hook calls: 1000 keeps the overhead well under 1%. */
#define HOOK_STEP 1000

/* Registry keys (their addresses are the keys, as lauxlib does). */
static const char SHAPES_KEY = 0;  /* weak table: table -> true (list) or
                                   ** key-order table (record) */
static const char SEALED_KEY = 0;  /* G, the sealed globals */
static const char FROZEN_KEY = 0;  /* weak set of read-only proxy tables */
static const char NULL_KEY = 0;    /* the iex.null sentinel userdata */

/* Metatable names in the registry; also what Lua calls the types in its
** own messages ("attempt to index a decimal value"). */
#define MT_DECIMAL "decimal"
#define MT_DATE "date"
#define MT_DATETIME "datetime"
#define MT_NUMTEXT "numtext"
#define MT_NULL "null"

typedef struct NumText {
  size_t len;   /* bytes of `text` */
  char text[];  /* the JSON number's text, not NUL-terminated */
} NumText;

struct LuaBridge {
  lua_State *L;            /* owned; closed by lua_bridge_free() */
  Rounding rounding;       /* the flow's rule, for decimal division */
  size_t mem_used;         /* live bytes allocated by L */
  size_t mem_limit;        /* cap on mem_used */
  uint64_t budget;         /* instructions allowed per call */
  uint64_t used;           /* instructions counted in the current call */
  int hook_count;          /* the count the hook is set to now */
  bool armed;              /* a load or call is running: limits are sticky */
  bool budget_hit;         /* the budget ran out in this call (sticky) */
  bool mem_hit;            /* the allocator refused in this call (sticky) */
  char where[LUA_IDSIZE + 24]; /* "file:line" last seen by the hook */
  char limit_where[LUA_IDSIZE + 24]; /* "file:line" where a limit hit */
  const void *mt[5];       /* metatables of MT_DECIMAL..MT_NULL, for fast
                           ** type tests (anchored in the registry) */
  Buf printed;             /* print() output of the current call */
};

enum { MTI_DECIMAL, MTI_DATE, MTI_DATETIME, MTI_NUMTEXT, MTI_NULL };

static LuaBridge *bridge_of(lua_State *L) {
  return *(LuaBridge **)lua_getextraspace(L);
}

/* ---- Limits ------------------------------------------------------------ */

static void count_hook(lua_State *L, lua_Debug *ar);

static void set_hook(LuaBridge *b, int count) {
  b->hook_count = count;
  lua_sethook(b->L, count_hook, LUA_MASKCOUNT, count);
}

/* Note in b->limit_where the line of the innermost running Lua function.
** Called from the allocator, which is safe only because the allocation is
** a new block (ptr == NULL): Lua may run an emergency collection there,
** which walks the same stacks and call infos, so they are consistent.
** (Reallocations are not: Lua 5.4.6 moves the stack with one, with the
** emergency collector stopped. Those get the hook's line instead.) */
static void where_now(LuaBridge *b) {
  lua_Debug ar;
  for (int level = 0; lua_getstack(b->L, level, &ar); level++) {
    if (lua_getinfo(b->L, "Sl", &ar) && ar.currentline > 0) {
      snprintf(b->limit_where, sizeof b->limit_where, "%s:%d", ar.short_src,
               ar.currentline);
      return;
    }
  }
}

/* The allocator enforces the memory limit. Lua turns a NULL into a memory
** error, which a script's pcall could catch, so once the limit is hit in a
** call every further growth fails too and the hook (set to fire on the
** next instruction; lua_sethook is safe anywhere, lua.c calls it from a
** signal handler) raises an error on every instruction until the call
** returns. Shrinking and freeing always succeed. */
static void *bridge_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  LuaBridge *b = ud;
  if (ptr == NULL) osize = 0; /* osize is then a type tag, not a size */
  if (nsize == 0) {
    free(ptr);
    b->mem_used -= osize;
    return NULL;
  }
  if (nsize > osize) {
    size_t grow = nsize - osize;
    if (b->mem_hit || grow > b->mem_limit - b->mem_used) {
      if (b->armed && !b->mem_hit) {
        b->mem_hit = true;
        if (ptr == NULL) where_now(b);
        set_hook(b, 1);
      }
      return NULL;
    }
  }
  void *p = realloc(ptr, nsize);
  if (p == NULL) return NULL; /* the machine is out of memory: a Lua error */
  b->mem_used = b->mem_used - osize + nsize;
  return p;
}

static void note_where(LuaBridge *b, lua_State *L, lua_Debug *ar) {
  if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
    snprintf(b->where, sizeof b->where, "%s:%d", ar->short_src, ar->currentline);
}

/* Counts instructions, notes where the script is, and raises the errors
** of limits already hit. Raising from a count hook is what lua.c does to
** stop a script on ^C. */
static void count_hook(lua_State *L, lua_Debug *ar) {
  LuaBridge *b = bridge_of(L);
  b->used += (uint64_t)b->hook_count;
  if (b->mem_hit) {
    /* A failed reallocation has no line of its own (see where_now): use
    ** the line seen last, before this one, which may be a handler's. */
    if (!b->limit_where[0]) memcpy(b->limit_where, b->where, sizeof b->where);
    luaL_error(L, "memory limit exceeded");
  }
  note_where(b, L, ar);
  if (!b->budget_hit && b->used > b->budget) {
    b->budget_hit = true;
    memcpy(b->limit_where, b->where, sizeof b->where);
    set_hook(b, 1);
  }
  if (b->budget_hit) luaL_error(L, "instruction budget exceeded");
}

static void arm(LuaBridge *b) {
  b->used = 0;
  b->budget_hit = b->mem_hit = false;
  b->where[0] = b->limit_where[0] = '\0';
  buf_reset(&b->printed);
  b->armed = true;
  set_hook(b, (uint64_t)HOOK_STEP < b->budget ? HOOK_STEP : (int)IEX_MAX(b->budget, 1));
}

/* Called after every load and call: drop the globals it assigned and, if
** memory ran out, collect what the script left behind so the next call
** starts under the limit. */
static void disarm(LuaBridge *b) {
  lua_State *L = b->L;
  lua_sethook(L, NULL, 0, 0);
  b->armed = false;
  bool was_mem = b->mem_hit;
  b->budget_hit = b->mem_hit = false;
  lua_settop(L, 0);
  /* Clearing fields during a traversal is allowed (lua_next manual). */
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, 1);
  }
  lua_settop(L, 0);
  if (was_mem) lua_gc(L, LUA_GCCOLLECT);
}

/* ---- Userdata: decimal, date, datetime, numtext, null ------------------ */

static bool is_udata(lua_State *L, int idx, int mti) {
  LuaBridge *b = bridge_of(L);
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return false;
  bool same = lua_topointer(L, -1) == b->mt[mti];
  lua_pop(L, 1);
  return same;
}

static void push_decimal(lua_State *L, Decimal d) {
  Decimal *p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = d;
  luaL_setmetatable(L, MT_DECIMAL);
}

/* The decimal at `idx`: a decimal, or a Lua integer (exact). A float is
** refused: it is never exact enough for money, and silently rounding 0.1
** to a decimal is the bug this module exists to prevent. */
static Decimal to_decimal(lua_State *L, int idx) {
  if (is_udata(L, idx, MTI_DECIMAL)) return *(Decimal *)lua_touserdata(L, idx);
  if (lua_isinteger(L, idx)) {
    Decimal d;
    if (decimal_from_int(lua_tointeger(L, idx), &d) != DECIMAL_OK)
      luaL_error(L, "integer %I has more than 18 digits for a decimal",
                 (LUAI_UACINT)lua_tointeger(L, idx));
    return d;
  }
  if (lua_type(L, idx) == LUA_TNUMBER)
    luaL_error(L, "cannot use the float %f as a decimal: floats are not exact; "
               "write decimal(\"...\") or use integers", lua_tonumber(L, idx));
  luaL_error(L, "expected a decimal or an integer, got %s", luaL_typename(L, idx));
  return decimal_zero(); /* not reached */
}

static int check_decimal_status(lua_State *L, DecimalStatus st, const char *op) {
  if (st != DECIMAL_OK)
    return luaL_error(L, "decimal %s: %s", op, decimal_status_message(st));
  return 0;
}

static int dec_arith(lua_State *L, char op) {
  Decimal a = to_decimal(L, 1), b = to_decimal(L, 2), r;
  DecimalStatus st;
  switch (op) {
    case '+': st = decimal_add(a, b, &r); break;
    case '-': st = decimal_sub(a, b, &r); break;
    case '*': st = decimal_mul(a, b, &r); break;
    default: st = decimal_div(a, b, bridge_of(L)->rounding, &r); break;
  }
  char name[2] = {op, 0};
  check_decimal_status(L, st, name);
  push_decimal(L, r);
  return 1;
}
static int dec_add(lua_State *L) { return dec_arith(L, '+'); }
static int dec_sub(lua_State *L) { return dec_arith(L, '-'); }
static int dec_mul(lua_State *L) { return dec_arith(L, '*'); }
static int dec_div(lua_State *L) { return dec_arith(L, '/'); }
static int dec_unm(lua_State *L) {
  push_decimal(L, decimal_neg(to_decimal(L, 1)));
  return 1;
}
/* __eq is only consulted when both sides are full userdata (Lua 5.4), so
** `d == 1` is false: compare with decimal(1) or use < and <=. */
static int dec_eq(lua_State *L) {
  bool eq = is_udata(L, 1, MTI_DECIMAL) && is_udata(L, 2, MTI_DECIMAL) &&
            decimal_eq(to_decimal(L, 1), to_decimal(L, 2));
  lua_pushboolean(L, eq);
  return 1;
}
static int dec_lt(lua_State *L) {
  lua_pushboolean(L, decimal_cmp(to_decimal(L, 1), to_decimal(L, 2)) < 0);
  return 1;
}
static int dec_le(lua_State *L) {
  lua_pushboolean(L, decimal_cmp(to_decimal(L, 1), to_decimal(L, 2)) <= 0);
  return 1;
}

/* tostring() of every iex userdata, and of anything else as Lua does. */
static const char *to_text(lua_State *L, int idx, size_t *len) {
  char text[DATETIME_TEXT_SIZE > DECIMAL_TEXT_SIZE ? DATETIME_TEXT_SIZE : DECIMAL_TEXT_SIZE];
  if (is_udata(L, idx, MTI_DECIMAL)) {
    decimal_format(*(Decimal *)lua_touserdata(L, idx), text);
  } else if (is_udata(L, idx, MTI_DATE)) {
    date_format_iso(*(int32_t *)lua_touserdata(L, idx), text);
  } else if (is_udata(L, idx, MTI_DATETIME)) {
    datetime_format_iso(*(DateTime *)lua_touserdata(L, idx), text);
  } else if (is_udata(L, idx, MTI_NUMTEXT)) {
    NumText *n = lua_touserdata(L, idx);
    lua_pushlstring(L, n->text, n->len);
    return lua_tolstring(L, -1, len);
  } else if (is_udata(L, idx, MTI_NULL)) {
    snprintf(text, sizeof text, "null");
  } else {
    return luaL_tolstring(L, idx, len);
  }
  lua_pushstring(L, text);
  return lua_tolstring(L, -1, len);
}
static int ud_tostring(lua_State *L) {
  to_text(L, 1, NULL);
  return 1;
}
/* "Total: " .. amount. Only strings, numbers and iex values concatenate,
** as in plain Lua (no tables, no booleans). */
static int ud_concat(lua_State *L) {
  for (int i = 1; i <= 2; i++) {
    int t = lua_type(L, i);
    if (t != LUA_TSTRING && t != LUA_TNUMBER && t != LUA_TUSERDATA)
      return luaL_error(L, "attempt to concatenate a %s value", luaL_typename(L, i));
  }
  to_text(L, 1, NULL);
  to_text(L, 2, NULL);
  lua_concat(L, 2);
  return 1;
}

static Rounding opt_rounding(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return bridge_of(L)->rounding;
  size_t len;
  const char *name = luaL_checklstring(L, idx, &len);
  Rounding r;
  if (!rounding_from_name(str_make(name, len), &r))
    luaL_error(L, "unknown rounding `%s` (half_up, half_even, half_away_from_zero, "
               "half_down, down)", name);
  return r;
}

/* d:round(places [, rule]) */
static int dec_round(lua_State *L) {
  Decimal d = to_decimal(L, 1), r;
  lua_Integer places = luaL_checkinteger(L, 2);
  if (places < 0 || places > DECIMAL_MAX_SCALE)
    return luaL_error(L, "round: places must be 0..18, not %I", (LUAI_UACINT)places);
  check_decimal_status(L, decimal_round(d, (int)places, opt_rounding(L, 3), &r), "round");
  push_decimal(L, r);
  return 1;
}
static int dec_abs(lua_State *L) {
  push_decimal(L, decimal_abs(to_decimal(L, 1)));
  return 1;
}
/* d:tointeger(): the Lua integer if `d` has no fraction, else nil (like
** math.tointeger). */
static int dec_tointeger(lua_State *L) {
  Decimal d = to_decimal(L, 1);
  if (decimal_is_integer(d)) lua_pushinteger(L, decimal_to_int(d, ROUND_DOWN));
  else lua_pushnil(L);
  return 1;
}

static const luaL_Reg decimal_methods[] = {
  {"round", dec_round}, {"abs", dec_abs}, {"tointeger", dec_tointeger}, {NULL, NULL}};
static const luaL_Reg decimal_meta[] = {
  {"__add", dec_add}, {"__sub", dec_sub}, {"__mul", dec_mul}, {"__div", dec_div},
  {"__unm", dec_unm}, {"__eq", dec_eq}, {"__lt", dec_lt}, {"__le", dec_le},
  {"__tostring", ud_tostring}, {"__concat", ud_concat}, {NULL, NULL}};

/* decimal(x): from a decimal, an integer or a string in JSON number syntax
** ("19.99"). Floats are refused (see to_decimal). */
static int lib_decimal(lua_State *L) {
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    Decimal d;
    const char *why = NULL;
    DecimalStatus st = decimal_parse(str_make(s, len), &d, &why);
    if (st != DECIMAL_OK)
      return luaL_error(L, "decimal(\"%s\"): %s", s, why ? why : decimal_status_message(st));
    push_decimal(L, d);
    return 1;
  }
  push_decimal(L, to_decimal(L, 1));
  return 1;
}

static void push_date(lua_State *L, int32_t days) {
  int32_t *p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = days;
  luaL_setmetatable(L, MT_DATE);
}
static void push_datetime(lua_State *L, DateTime dt) {
  DateTime *p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = dt;
  luaL_setmetatable(L, MT_DATETIME);
}

/* Dates compare with dates, date-times with date-times (by instant). */
static int time_cmp(lua_State *L) {
  if (is_udata(L, 1, MTI_DATE) && is_udata(L, 2, MTI_DATE)) {
    int32_t a = *(int32_t *)lua_touserdata(L, 1), b = *(int32_t *)lua_touserdata(L, 2);
    return (a > b) - (a < b);
  }
  if (is_udata(L, 1, MTI_DATETIME) && is_udata(L, 2, MTI_DATETIME))
    return datetime_cmp(*(DateTime *)lua_touserdata(L, 1), *(DateTime *)lua_touserdata(L, 2));
  return luaL_error(L, "cannot compare a %s with a %s", luaL_typename(L, 1),
                    luaL_typename(L, 2));
}
static int time_lt(lua_State *L) { lua_pushboolean(L, time_cmp(L) < 0); return 1; }
static int time_le(lua_State *L) { lua_pushboolean(L, time_cmp(L) <= 0); return 1; }
static int time_eq(lua_State *L) {
  bool same_kind = (is_udata(L, 1, MTI_DATE) && is_udata(L, 2, MTI_DATE)) ||
                   (is_udata(L, 1, MTI_DATETIME) && is_udata(L, 2, MTI_DATETIME));
  lua_pushboolean(L, same_kind && time_cmp(L) == 0);
  return 1;
}

/* d:add_days(n) */
static int date_add_days(lua_State *L) {
  if (!is_udata(L, 1, MTI_DATE)) return luaL_error(L, "add_days: expected a date");
  int64_t days = *(int32_t *)lua_touserdata(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  if (n < -(lua_Integer)4000000 || n > 4000000 || days + n < DATE_MIN_DAYS ||
      days + n > DATE_MAX_DAYS)
    return luaL_error(L, "add_days: the date would leave the years 0000..9999");
  push_date(L, (int32_t)(days + n));
  return 1;
}
/* dt:date(): the calendar date at the date-time's own offset. */
static int datetime_date(lua_State *L) {
  if (!is_udata(L, 1, MTI_DATETIME)) return luaL_error(L, "date: expected a datetime");
  push_date(L, datetime_local_date(*(DateTime *)lua_touserdata(L, 1)));
  return 1;
}

/* __index of dates and date-times: the civil fields, then the methods. */
static int time_index(lua_State *L) {
  CivilTime c;
  bool is_dt = is_udata(L, 1, MTI_DATETIME);
  if (is_dt) c = datetime_to_civil(*(DateTime *)lua_touserdata(L, 1));
  else c = date_to_civil(*(int32_t *)lua_touserdata(L, 1));
  const char *k = luaL_checkstring(L, 2);
  static const char *const fields[] = {"year", "month", "day", "weekday", "yday",
                                       "hour", "minute", "second", "microsecond", "offset"};
  int64_t vals[] = {c.year, c.month, c.day, c.weekday, c.yday,
                    c.hour, c.minute, c.second, c.usec, c.offset_min};
  int n = is_dt ? 10 : 5;
  for (int i = 0; i < n; i++)
    if (strcmp(k, fields[i]) == 0) {
      lua_pushinteger(L, vals[i]);
      return 1;
    }
  if (!is_dt && strcmp(k, "add_days") == 0) lua_pushcfunction(L, date_add_days);
  else if (is_dt && strcmp(k, "date") == 0) lua_pushcfunction(L, datetime_date);
  else lua_pushnil(L);
  return 1;
}

static const luaL_Reg time_meta[] = {
  {"__eq", time_eq}, {"__lt", time_lt}, {"__le", time_le}, {"__index", time_index},
  {"__tostring", ud_tostring}, {"__concat", ud_concat}, {NULL, NULL}};

/* iex.date("2024-03-01") or iex.date(2024, 3, 1) */
static int lib_date(lua_State *L) {
  int32_t days;
  if (lua_type(L, 1) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, 1, &len);
    const char *why = NULL;
    if (!date_parse(str_make(s, len), &days, &why))
      return luaL_error(L, "date(\"%s\"): %s", s, why ? why : "not a date");
  } else {
    lua_Integer y = luaL_checkinteger(L, 1), m = luaL_checkinteger(L, 2),
                d = luaL_checkinteger(L, 3);
    if (y < 0 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m))
      return luaL_error(L, "date(%I, %I, %I) is not a calendar day", (LUAI_UACINT)y,
                        (LUAI_UACINT)m, (LUAI_UACINT)d);
    days = (int32_t)days_from_civil(y, (int)m, (int)d);
  }
  push_date(L, days);
  return 1;
}
/* iex.datetime("2024-03-01T10:15:00+01:00") */
static int lib_datetime(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  DateTime dt;
  const char *why = NULL;
  if (!datetime_parse(str_make(s, len), &dt, &why))
    return luaL_error(L, "datetime(\"%s\"): %s", s, why ? why : "not a date-time");
  push_datetime(L, dt);
  return 1;
}

static int numtext_eq(lua_State *L) {
  bool eq = false;
  if (is_udata(L, 1, MTI_NUMTEXT) && is_udata(L, 2, MTI_NUMTEXT)) {
    NumText *a = lua_touserdata(L, 1), *b = lua_touserdata(L, 2);
    eq = a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
  }
  lua_pushboolean(L, eq);
  return 1;
}
static const luaL_Reg numtext_meta[] = {
  {"__eq", numtext_eq}, {"__tostring", ud_tostring}, {"__concat", ud_concat}, {NULL, NULL}};
static const luaL_Reg null_meta[] = {{"__tostring", ud_tostring}, {NULL, NULL}};

/* iex.list(t) / iex.record(t [, keys]): mark a table Lua made, so that an
** empty one crosses as the right kind and a record keeps a key order. */
static void set_shape(lua_State *L, int t) {
  /* stack: ... shape-value */
  lua_rawgetp(L, LUA_REGISTRYINDEX, &SHAPES_KEY);
  lua_pushvalue(L, t);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);
}
static int lib_list(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushboolean(L, 1);
  set_shape(L, 1);
  return 1;
}
static int lib_record(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  lua_newtable(L); /* 3: a copy the script cannot reach and change later */
  lua_newtable(L); /* 4: the keys seen, to drop repeats */
  if (!lua_isnil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2), k = 0;
    for (lua_Integer i = 1; i <= n; i++) {
      if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
        return luaL_error(L, "record: key %I of the order is not a string", (LUAI_UACINT)i);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, 4) != LUA_TNIL) {
        lua_pop(L, 2);
        continue;
      }
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushboolean(L, 1);
      lua_rawset(L, 4);
      lua_rawseti(L, 3, ++k);
    }
  }
  lua_pop(L, 1);
  set_shape(L, 1);
  lua_settop(L, 1);
  return 1;
}
/* iex.type(v): "null", "decimal", "date", "datetime", "numtext", "list",
** "record" (for tables that crossed the bridge or were marked), or what
** type() says. */
static int lib_type(lua_State *L) {
  luaL_checkany(L, 1);
  static const char *const names[] = {"decimal", "date", "datetime", "numtext", "null"};
  for (int i = 0; i < 5; i++)
    if (is_udata(L, 1, i)) {
      lua_pushstring(L, names[i]);
      return 1;
    }
  if (lua_isnil(L, 1)) {
    lua_pushliteral(L, "null");
    return 1;
  }
  if (lua_istable(L, 1)) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SHAPES_KEY);
    lua_pushvalue(L, 1);
    int t = lua_rawget(L, -2);
    if (t == LUA_TBOOLEAN) lua_pushliteral(L, "list");
    else if (t == LUA_TTABLE) lua_pushliteral(L, "record");
    else lua_pushliteral(L, "table");
    return 1;
  }
  lua_pushstring(L, luaL_typename(L, 1));
  return 1;
}

static const luaL_Reg iex_lib[] = {
  {"decimal", lib_decimal}, {"date", lib_date}, {"datetime", lib_datetime},
  {"list", lib_list},       {"record", lib_record}, {"type", lib_type}, {NULL, NULL}};

/* ---- The sandboxed base library ---------------------------------------- */

/* load() with the mode forced to text: a binary chunk could crash the VM
** (Lua does not verify bytecode). */
static int sandbox_load(lua_State *L) {
  if (lua_gettop(L) < 3) lua_settop(L, 3);
  lua_pushliteral(L, "t");
  lua_replace(L, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* setmetatable() refusing __gc: a finaliser runs whenever the collector
** decides, possibly outside any call (after it, or in lua_close), where no
** budget applies. */
static int sandbox_setmetatable(lua_State *L) {
  if (lua_type(L, 2) == LUA_TTABLE && lua_getfield(L, 2, "__gc") != LUA_TNIL)
    return luaL_error(L, "__gc metamethods are not allowed in iex's Lua sandbox");
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 2, 1);
  return 1;
}

/* rawset() refusing the read-only library proxies. */
static int sandbox_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &FROZEN_KEY);
  lua_pushvalue(L, 1);
  if (lua_rawget(L, -2) != LUA_TNIL) return luaL_error(L, "this table is read-only");
  lua_settop(L, 3);
  lua_rawset(L, 1);
  lua_settop(L, 1);
  return 1;
}

static int readonly_newindex(lua_State *L) {
  return luaL_error(L, "the library table is read-only (field `%s`)",
                    lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?");
}
/* __pairs of a proxy: iterate the real table (upvalue 1 is `next`). */
static int readonly_pairs(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  if (!lua_getmetatable(L, 1)) return luaL_error(L, "not a library table");
  lua_getfield(L, -1, "__index");
  lua_remove(L, -2);
  lua_pushnil(L);
  return 3;
}

/* print() collects its output for lua_bridge_printed(); stdout belongs to
** the iex command (iex preview writes JSON Lines there). */
static int sandbox_print(lua_State *L) {
  LuaBridge *b = bridge_of(L);
  int n = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    size_t len;
    const char *s = to_text(L, i, &len);
    if (i > 1) buf_putc(&b->printed, '\t');
    buf_append(&b->printed, s, len);
    lua_pop(L, 1);
  }
  buf_putc(&b->printed, '\n');
  return 0;
}

/* Replace the table at the top of the stack with a read-only proxy of it:
** an empty table whose metatable (protected from getmetatable) reads
** through to the real one. Scripts share the libraries across calls, so a
** script that replaced string.format would change every later record. */
static void freeze_top(lua_State *L) {
  int real = lua_gettop(L);
  lua_newtable(L);                         /* proxy */
  lua_createtable(L, 0, 4);                /* its metatable */
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_getglobal(L, "next");
  lua_pushcclosure(L, readonly_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &FROZEN_KEY);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_replace(L, real);
}

/* Make a metatable named `name` with `funcs`, protected from scripts, and
** remember its address in b->mt[mti]. */
static void new_meta(lua_State *L, LuaBridge *b, const char *name, const luaL_Reg *funcs,
                     int mti) {
  luaL_newmetatable(L, name);
  luaL_setfuncs(L, funcs, 0);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__metatable");
  b->mt[mti] = lua_topointer(L, -1);
}

static void remove_field(lua_State *L, int t, const char *name) {
  t = lua_absindex(L, t);
  lua_pushnil(L);
  lua_setfield(L, t, name);
}

/* Build the sandbox (see the file comment). Runs protected. */
static int open_sandbox(lua_State *L) {
  LuaBridge *b = bridge_of(L);
  static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},
                                  {LUA_STRLIBNAME, luaopen_string},
                                  {LUA_TABLIBNAME, luaopen_table},
                                  {LUA_MATHLIBNAME, luaopen_math},
                                  {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (size_t i = 0; i < ARRAY_LEN(libs); i++) {
    luaL_requiref(L, libs[i].name, libs[i].func, 1);
    lua_pop(L, 1);
  }
  /* SHAPES and FROZEN have weak keys: they must not keep tables alive. */
  lua_newtable(L);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_pushvalue(L, -1);
  lua_setmetatable(L, -3);
  lua_setmetatable(L, -3);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &FROZEN_KEY);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &SHAPES_KEY);

  new_meta(L, b, MT_DECIMAL, decimal_meta, MTI_DECIMAL);
  luaL_newlib(L, decimal_methods);
  lua_setfield(L, -2, "__index");
  new_meta(L, b, MT_DATE, time_meta, MTI_DATE);
  new_meta(L, b, MT_DATETIME, time_meta, MTI_DATETIME);
  new_meta(L, b, MT_NUMTEXT, numtext_meta, MTI_NUMTEXT);
  new_meta(L, b, MT_NULL, null_meta, MTI_NULL);
  lua_settop(L, 0);
  lua_newuserdatauv(L, 0, 0);
  luaL_setmetatable(L, MT_NULL);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &NULL_KEY);

  lua_pushglobaltable(L); /* 1: G */
  int G = 1;
  /* Files, the collector's controls (stopping it defeats the memory
  ** limit's clean-up) and warn (stderr) go; load, setmetatable, rawset
  ** and print are replaced. */
  remove_field(L, G, "dofile");
  remove_field(L, G, "loadfile");
  remove_field(L, G, "collectgarbage");
  remove_field(L, G, "warn");
  lua_getfield(L, G, "load");
  lua_pushcclosure(L, sandbox_load, 1);
  lua_setfield(L, G, "load");
  lua_getfield(L, G, "setmetatable");
  lua_pushcclosure(L, sandbox_setmetatable, 1);
  lua_setfield(L, G, "setmetatable");
  lua_pushcfunction(L, sandbox_rawset);
  lua_setfield(L, G, "rawset");
  lua_pushcfunction(L, sandbox_print);
  lua_setfield(L, G, "print");
  /* string.dump makes binary chunks; random numbers would make a retry or
  ** a preview compute something else than the run (stdlib.h's rule). */
  lua_getfield(L, G, LUA_STRLIBNAME);
  remove_field(L, -1, "dump");
  lua_pop(L, 1);
  lua_getfield(L, G, LUA_MATHLIBNAME);
  remove_field(L, -1, "random");
  remove_field(L, -1, "randomseed");
  lua_pop(L, 1);

  luaL_newlib(L, iex_lib);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &NULL_KEY);
  lua_setfield(L, -2, "null");
  lua_getfield(L, -1, "decimal");
  lua_setfield(L, G, "decimal");
  lua_setfield(L, G, "iex");

  static const char *const frozen[] = {LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME,
                                       LUA_UTF8LIBNAME, "iex"};
  for (size_t i = 0; i < ARRAY_LEN(frozen); i++) {
    lua_getfield(L, G, frozen[i]);
    freeze_top(L);
    lua_setfield(L, G, frozen[i]);
  }
  /* Strings' methods go through the frozen proxy as well, and
  ** getmetatable("") returns false instead of the metatable. */
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_getfield(L, G, LUA_STRLIBNAME);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  lua_pushvalue(L, G);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &SEALED_KEY);
  lua_newtable(L); /* P */
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, G);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, G, LUA_GNAME); /* _G is P, like the globals scripts see */
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_settop(L, 0);
  return 0;
}

static int panic(lua_State *L) {
  iex_fatal("unprotected Lua error: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
}

LuaBridge *lua_bridge_new(const LuaLimits *limits, Rounding rounding) {
  LuaBridge *b = xcalloc(1, sizeof *b);
  b->rounding = rounding;
  b->mem_limit = limits && limits->memory_bytes ? limits->memory_bytes
                                                 : LUA_BRIDGE_DEFAULT_MEMORY_BYTES;
  b->budget = limits && limits->instructions ? limits->instructions
                                              : LUA_BRIDGE_DEFAULT_INSTRUCTIONS;
  buf_init(&b->printed, LUA_BRIDGE_PRINT_BYTES);
  b->L = lua_newstate(bridge_alloc, b);
  if (!b->L) iex_fatal("cannot create a Lua state within %zu bytes", b->mem_limit);
  *(LuaBridge **)lua_getextraspace(b->L) = b;
  lua_atpanic(b->L, panic);
  lua_pushcfunction(b->L, open_sandbox);
  if (lua_pcall(b->L, 0, 0, 0) != LUA_OK)
    iex_fatal("cannot open the Lua sandbox within %zu bytes: %s", b->mem_limit,
              lua_tostring(b->L, -1) ? lua_tostring(b->L, -1) : "?");
  lua_gc(b->L, LUA_GCCOLLECT);
  return b;
}

void lua_bridge_free(LuaBridge *b) {
  if (!b) return;
  lua_close(b->L);
  buf_fini(&b->printed);
  free(b);
}

const char *lua_bridge_printed(LuaBridge *b) { return buf_cstr(&b->printed); }
size_t lua_bridge_memory_bytes(const LuaBridge *b) { return b->mem_used; }
uint64_t lua_bridge_instructions_used(const LuaBridge *b) { return b->used; }

/* ---- Values to Lua ------------------------------------------------------ */

/* Push `v`. A null is nil, except inside a list, where nil would end the
** sequence: there it is iex.null. Records remember their key order in the
** SHAPES table (so null fields, absent from the Lua table, come back). */
static void push_value(lua_State *L, Value v, bool in_list, int depth) {
  if (depth > LUA_BRIDGE_MAX_DEPTH)
    luaL_error(L, "value nested deeper than %d levels", LUA_BRIDGE_MAX_DEPTH);
  luaL_checkstack(L, 6, "value nested too deeply");
  switch (value_kind(v)) {
    case VAL_NULL:
      if (in_list) lua_rawgetp(L, LUA_REGISTRYINDEX, &NULL_KEY);
      else lua_pushnil(L);
      return;
    case VAL_BOOL: lua_pushboolean(L, v.as.b); return;
    case VAL_INT: lua_pushinteger(L, v.as.i); return;
    case VAL_DECIMAL: push_decimal(L, value_as_decimal(v)); return;
    case VAL_STRING: lua_pushlstring(L, v.as.str, v.len); return;
    case VAL_DATE: push_date(L, v.as.days); return;
    case VAL_DATETIME: push_datetime(L, value_as_datetime(v)); return;
    case VAL_NUMTEXT: {
      NumText *n = lua_newuserdatauv(L, sizeof *n + v.len, 0);
      n->len = v.len;
      memcpy(n->text, v.as.str, v.len);
      luaL_setmetatable(L, MT_NUMTEXT);
      return;
    }
    case VAL_LIST: {
      lua_createtable(L, (int)IEX_MIN(v.len, (uint32_t)INT32_MAX), 0);
      int t = lua_gettop(L);
      for (uint32_t i = 0; i < v.len; i++) {
        push_value(L, v.as.items[i], true, depth + 1);
        lua_rawseti(L, t, (lua_Integer)i + 1);
      }
      lua_pushboolean(L, 1);
      set_shape(L, t);
      return;
    }
    case VAL_RECORD: {
      lua_createtable(L, 0, (int)IEX_MIN(v.len, (uint32_t)INT32_MAX));
      int t = lua_gettop(L);
      lua_createtable(L, (int)IEX_MIN(v.len, (uint32_t)INT32_MAX), 0);
      int keys = t + 1;
      for (uint32_t i = 0; i < v.len; i++) {
        const Field *f = value_field_at(v, i);
        lua_pushlstring(L, f->key.ptr, f->key.len);
        lua_pushvalue(L, -1);
        lua_rawseti(L, keys, (lua_Integer)i + 1);
        push_value(L, f->value, false, depth + 1);
        lua_rawset(L, t); /* a nil value leaves the key out */
      }
      set_shape(L, t);
      return;
    }
    case VAL__COUNT: break;
  }
  luaL_error(L, "a value of unknown kind %d", (int)v.kind);
}

/* ---- Lua to Values ------------------------------------------------------ */

/* A conversion of a Lua result into the caller's arena. Failures are
** recorded here rather than raised, so they can name the function. */
typedef struct Conv {
  Arena *arena;        /* where the result goes; borrowed */
  IexStatus status;    /* IEX_OK, IEX_E_LUA or IEX_E_MAPPING (arena full) */
  char msg[256];       /* what went wrong, when status != IEX_OK */
  char path[128];      /* where in the result: ".lines[2].price", built
                       ** while unwinding; cut at the front when long */
} Conv;

/* Put `.key` or `[i]` in front of c->path (on the way out of a failed
** conversion). A path that would not fit keeps its innermost part. */
static void path_prepend(Conv *c, const char *fmt, ...) IEX_PRINTF(2, 3);
static void path_prepend(Conv *c, const char *fmt, ...) {
  char seg[64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(seg, sizeof seg, fmt, ap);
  va_end(ap);
  size_t n = strlen(seg), have = strlen(c->path);
  if (n + have + 1 > sizeof c->path) return;
  memmove(c->path + n, c->path, have + 1);
  memcpy(c->path, seg, n);
}

static bool conv_fail(Conv *c, IexStatus st, const char *fmt, ...) IEX_PRINTF(3, 4);
static bool conv_fail(Conv *c, IexStatus st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
  c->status = st;
  return false;
}
static bool arena_full(Conv *c) {
  return conv_fail(c, IEX_E_MAPPING, "the evaluation's memory limit was reached");
}

static bool copy_string(Conv *c, lua_State *L, int idx, Str *out) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len);
  /* Value strings go to JSON as they are; Lua strings are any bytes. */
  if (!utf8_valid(s, len))
    return conv_fail(c, IEX_E_LUA, "a string that is not valid UTF-8");
  if (len > VALUE_MAX_LEN) return conv_fail(c, IEX_E_LUA, "a string longer than 4 GiB");
  char *p = arena_alloc(c->arena, len ? len : 1);
  if (!p) return arena_full(c);
  memcpy(p, s, len);
  *out = str_make(p, len);
  return true;
}

static int compare_str(const void *pa, const void *pb) {
  const Str *a = pa, *b = pb;
  int r = memcmp(a->ptr, b->ptr, IEX_MIN(a->len, b->len));
  return r ? r : (a->len > b->len) - (a->len < b->len);
}

static bool to_value(Conv *c, lua_State *L, int idx, int depth, Value *out);

/* The list in table `t` with `n` entries, all at keys 1..n. */
static bool list_to_value(Conv *c, lua_State *L, int t, lua_Integer n, int depth,
                          Value *out) {
  Value *items = n ? arena_alloc(c->arena, (size_t)n * sizeof *items) : NULL;
  if (n && !items) return arena_full(c);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, t, i);
    bool ok = to_value(c, L, -1, depth + 1, &items[i - 1]);
    lua_pop(L, 1);
    if (!ok) {
      path_prepend(c, "[%lld]", (long long)i);
      return false;
    }
  }
  *out = value_list(items, (size_t)n);
  return true;
}

/* The record in table `t` (n_str string keys). `keys` is the stack index
** of its key-order table, or 0: the remembered keys come first, in order
** (a nil value there is a null field), then the other keys sorted by
** their bytes, so the result never depends on Lua's hash order. */
static bool record_to_value(Conv *c, lua_State *L, int t, int keys, size_t n_str, int depth,
                            Value *out) {
  size_t n_keys = keys ? (size_t)lua_rawlen(L, keys) : 0, present = 0;
  for (size_t i = 1; i <= n_keys; i++) {
    lua_rawgeti(L, keys, (lua_Integer)i);
    if (lua_rawget(L, t) != LUA_TNIL) present++;
    lua_pop(L, 1);
  }
  size_t n_extra = n_str - present;
  Str *extra = NULL;
  if (n_extra) {
    extra = arena_alloc(c->arena, n_extra * sizeof *extra);
    if (!extra) return arena_full(c);
    lua_createtable(L, 0, (int)IEX_MIN(n_keys, (size_t)INT32_MAX)); /* set of keys */
    int set = lua_gettop(L);
    for (size_t i = 1; i <= n_keys; i++) {
      lua_rawgeti(L, keys, (lua_Integer)i);
      lua_pushboolean(L, 1);
      lua_rawset(L, set);
    }
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, t)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      if (lua_rawget(L, set) == LUA_TNIL && k < n_extra) {
        size_t len;
        const char *s = lua_tolstring(L, -2, &len); /* a string: no conversion */
        extra[k++] = str_make(s, len);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    assert(k == n_extra);
    qsort(extra, n_extra, sizeof *extra, compare_str);
  }
  if (n_keys + n_extra > VALUE_MAX_LEN) return conv_fail(c, IEX_E_LUA, "a record too big");
  Record *rec = record_new(c->arena, (uint32_t)(n_keys + n_extra));
  if (!rec) return arena_full(c);
  for (size_t i = 0; i < n_keys + n_extra; i++) {
    Field *f = &rec->fields[i];
    if (i < n_keys) lua_rawgeti(L, keys, (lua_Integer)i + 1);
    else lua_pushlstring(L, extra[i - n_keys].ptr, extra[i - n_keys].len);
    bool ok = copy_string(c, L, -1, &f->key);
    if (ok) {
      lua_rawget(L, t);
      ok = to_value(c, L, -1, depth + 1, &f->value);
      if (!ok) path_prepend(c, ".%.*s", (int)IEX_MIN(f->key.len, (size_t)40), f->key.ptr);
    }
    lua_pop(L, 1);
    if (!ok) return false;
  }
  *out = value_record(rec);
  return true;
}

/* A table is a list or a record: by its mark (it crossed the bridge, or
** went through iex.list/iex.record), else by its keys. */
static bool table_to_value(Conv *c, lua_State *L, int t, int depth, Value *out) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &SHAPES_KEY);
  lua_pushvalue(L, t);
  int shape = lua_rawget(L, -2);
  lua_remove(L, -2);
  int s = lua_gettop(L);
  size_t n_int = 0, n_str = 0;
  lua_Integer max_int = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      n_str++;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      n_int++;
      if (lua_tointeger(L, -1) > max_int) max_int = lua_tointeger(L, -1);
    } else {
      return conv_fail(c, IEX_E_LUA, "a table with a key that is neither a string nor an "
                       "index 1, 2, ... (%s %s)", luaL_typename(L, -1),
                       lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
    }
  }
  bool is_list = shape == LUA_TBOOLEAN || (shape == LUA_TNIL && n_str == 0);
  if (is_list) {
    if (n_str)
      return conv_fail(c, IEX_E_LUA, "a list with string keys (it has %zu)", n_str);
    if ((size_t)max_int != n_int)
      return conv_fail(c, IEX_E_LUA, "a list with holes (largest index %lld, %zu values); "
                       "use iex.null for a null in a list", (long long)max_int, n_int);
    return list_to_value(c, L, t, max_int, depth, out);
  }
  if (n_int)
    return conv_fail(c, IEX_E_LUA, "a table with both string keys and indexes; a record "
                     "has only string keys");
  return record_to_value(c, L, t, shape == LUA_TTABLE ? s : 0, n_str, depth, out);
}

static bool to_value(Conv *c, lua_State *L, int idx, int depth, Value *out) {
  idx = lua_absindex(L, idx);
  if (depth > LUA_BRIDGE_MAX_DEPTH)
    return conv_fail(c, IEX_E_LUA, "tables nested deeper than %d levels (or a table that "
                     "contains itself)", LUA_BRIDGE_MAX_DEPTH);
  if (!lua_checkstack(L, 8)) return conv_fail(c, IEX_E_LUA, "tables nested too deeply");
  int top = lua_gettop(L);
  bool ok = true;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: *out = value_null(); break;
    case LUA_TBOOLEAN: *out = value_bool(lua_toboolean(L, idx)); break;
    case LUA_TNUMBER: {
      int is_int;
      lua_Integer i = lua_tointegerx(L, idx, &is_int);
      /* A float with an exact integer value (3.0, from 6/2) is that
      ** integer; any other float has no exact Value. */
      if (is_int) *out = value_int(i);
      else ok = conv_fail(c, IEX_E_LUA, "the float %.17g, which is not exact: use "
                          "decimal(...) for fractions and money", lua_tonumber(L, idx));
      break;
    }
    case LUA_TSTRING: {
      Str s;
      ok = copy_string(c, L, idx, &s);
      if (ok) *out = value_string(s.ptr, s.len);
      break;
    }
    case LUA_TUSERDATA:
      if (is_udata(L, idx, MTI_DECIMAL)) *out = value_decimal(*(Decimal *)lua_touserdata(L, idx));
      else if (is_udata(L, idx, MTI_DATE)) *out = value_date(*(int32_t *)lua_touserdata(L, idx));
      else if (is_udata(L, idx, MTI_DATETIME))
        *out = value_datetime(*(DateTime *)lua_touserdata(L, idx));
      else if (is_udata(L, idx, MTI_NULL)) *out = value_null();
      else if (is_udata(L, idx, MTI_NUMTEXT)) {
        NumText *n = lua_touserdata(L, idx);
        char *p = arena_alloc(c->arena, n->len ? n->len : 1);
        if (!p) ok = arena_full(c);
        else {
          memcpy(p, n->text, n->len);
          *out = value_numtext(p, n->len);
        }
      } else ok = conv_fail(c, IEX_E_LUA, "a userdata value");
      break;
    case LUA_TTABLE: ok = table_to_value(c, L, idx, depth, out); break;
    default: ok = conv_fail(c, IEX_E_LUA, "a %s value", luaL_typename(L, idx)); break;
  }
  lua_settop(L, top);
  return ok;
}

/* ---- Calls -------------------------------------------------------------- */

/* The message handler of every call into a script: "file:line: message",
** with the line of the innermost Lua function, unless Lua already put a
** position of that file in front (error("x") does, error("x", 0) not). */
static int message_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (!msg) msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    size_t n = strlen(ar.short_src);
    if (!(strncmp(msg, ar.short_src, n) == 0 && msg[n] == ':'))
      msg = lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
    break;
  }
  lua_pushstring(L, msg);
  return 1;
}

/* What the protected driver does: run a chunk (load) or a named global
** function with arguments (call), then convert the result. */
typedef struct CallCtx {
  const char *function;  /* NULL: the function is the loaded chunk, on the
                         ** stack below the context */
  const Value *args;     /* borrowed */
  size_t argc;
  Conv conv;             /* the result's conversion */
  bool found;            /* the named function exists */
  int status;            /* the script's lua_pcall status */
  char error[400];       /* the script's error message, copied */
  Value result;          /* the converted result */
} CallCtx;

static int call_driver(lua_State *L) {
  CallCtx *c = lua_touserdata(L, -1);
  lua_pop(L, 1);
  int base = lua_gettop(L); /* 1 with a chunk below, else 0 */
  lua_pushcfunction(L, message_handler);
  int msgh = base + 1;
  if (c->function) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SEALED_KEY);
    lua_getfield(L, -1, c->function);
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) return 0;
  } else {
    lua_pushvalue(L, base);
  }
  c->found = true;
  luaL_checkstack(L, (int)IEX_MIN(c->argc, (size_t)1000000) + 4, "too many arguments");
  for (size_t i = 0; i < c->argc; i++) push_value(L, c->args[i], false, 0);
  c->status = lua_pcall(L, (int)c->argc, 1, msgh);
  if (c->status != LUA_OK) {
    const char *m = lua_tostring(L, -1);
    snprintf(c->error, sizeof c->error, "%s", m ? m : "not enough memory");
    return 0;
  }
  if (c->function) to_value(&c->conv, L, -1, 0, &c->result);
  return 0;
}

/* Run the driver with the limits armed; the outcome is in `c`, and the
** return value is the driver's own status (memory errors while passing
** arguments land there). */
static int run_driver(LuaBridge *b, CallCtx *c) {
  lua_State *L = b->L;
  arm(b);
  lua_pushcfunction(L, call_driver);
  lua_insert(L, 1);
  lua_pushlightuserdata(L, c);
  int st = lua_pcall(L, lua_gettop(L) - 1, 0, 0);
  if (st != LUA_OK && !c->error[0]) {
    const char *m = lua_tostring(L, -1);
    snprintf(c->error, sizeof c->error, "%s", m ? m : "not enough memory");
  }
  return st;
}

/* Turn the outcome of a load or call into a status and a message. The
** limits win over whatever the script made of them. */
static IexStatus finish(LuaBridge *b, CallCtx *c, int driver_status, const char *what,
                        Err *err) {
  IexStatus rc = IEX_OK;
  if (b->budget_hit) {
    rc = err_set(err, IEX_E_LUA_BUDGET, "%s%sinstruction budget exceeded (%llu "
                 "instructions) in %s", b->limit_where, b->limit_where[0] ? ": " : "",
                 (unsigned long long)b->budget, what);
  } else if (b->mem_hit || driver_status == LUA_ERRMEM || c->status == LUA_ERRMEM) {
    const char *at = b->limit_where[0] ? b->limit_where : b->where;
    rc = err_set(err, IEX_E_LUA_MEMORY, "%s%smemory limit exceeded (%zu KiB) in %s", at,
                 at[0] ? ": " : "", b->mem_limit / 1024, what);
  } else if (driver_status != LUA_OK || c->status != LUA_OK) {
    rc = err_set(err, IEX_E_LUA, "%s (in %s)", c->error, what);
  } else if (c->function && !c->found) {
    rc = err_set(err, IEX_E_NOT_FOUND, "no Lua function `%s` in the loaded files", c->function);
  } else if (c->conv.status != IEX_OK) {
    if (c->conv.path[0])
      rc = err_set(err, c->conv.status, "%s returned, at `result%s`, %s", what,
                   c->conv.path, c->conv.msg);
    else
      rc = err_set(err, c->conv.status, "%s returned %s", what, c->conv.msg);
  }
  disarm(b);
  return rc;
}

/* Seal a loaded file: move what it defined from P into G, where calls
** find it and cannot change it. P is then cleared by disarm(), as after
** every call. Protected, since growing G may meet the memory limit. */
static int seal_driver(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &SEALED_KEY);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushnil(L);
  while (lua_next(L, 2)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, 1);
  }
  return 0;
}

IexStatus lua_bridge_load_text(LuaBridge *b, const char *name, const char *text, size_t len,
                               Err *err) {
  lua_State *L = b->L;
  lua_settop(L, 0);
  char chunkname[LUA_IDSIZE + 2];
  snprintf(chunkname, sizeof chunkname, "@%s", name);
  /* Mode "t": binary chunks are refused before they reach the VM. */
  int st = luaL_loadbufferx(L, text, len, chunkname, "t");
  if (st != LUA_OK) {
    IexStatus rc = st == LUA_ERRMEM
                       ? err_set(err, IEX_E_LUA_MEMORY, "%s: memory limit exceeded while "
                                 "compiling", name)
                       : err_set(err, IEX_E_LUA, "%s", lua_tostring(L, -1));
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    return rc;
  }
  CallCtx c = {.function = NULL};
  char what[LUA_IDSIZE + 16];
  snprintf(what, sizeof what, "loading %s", name);
  int ds = run_driver(b, &c);
  if (ds == LUA_OK && c.status == LUA_OK && !b->budget_hit && !b->mem_hit) {
    lua_settop(L, 0);
    lua_pushcfunction(L, seal_driver);
    ds = lua_pcall(L, 0, 0, 0);
  }
  return finish(b, &c, ds, what, err);
}

IexStatus lua_bridge_load(LuaBridge *b, const char *path, Err *err) {
  char why[128];
  size_t len;
  char *text = read_file(path, LUA_BRIDGE_DEFAULT_MEMORY_BYTES, &len, why, sizeof why);
  if (!text) return err_set(err, IEX_E_NOT_FOUND, "cannot read %s: %s", path, why);
  IexStatus rc = lua_bridge_load_text(b, path, text, len, err);
  free(text);
  return rc;
}

static int has_driver(lua_State *L) {
  const char *name = lua_touserdata(L, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &SEALED_KEY);
  lua_getfield(L, -1, name);
  lua_pushboolean(L, lua_isfunction(L, -1));
  return 1;
}

bool lua_bridge_has(LuaBridge *b, const char *function) {
  lua_State *L = b->L;
  lua_settop(L, 0);
  lua_pushcfunction(L, has_driver);
  lua_pushlightuserdata(L, (void *)function);
  bool has = lua_pcall(L, 1, 1, 0) == LUA_OK && lua_toboolean(L, -1);
  lua_settop(L, 0);
  return has;
}

IexStatus lua_bridge_call(LuaBridge *b, const char *function, const Value *args, size_t argc,
                          Arena *arena, Value *out, const char *caller_location, Err *err) {
  lua_settop(b->L, 0);
  CallCtx c = {.function = function, .args = args, .argc = argc};
  c.conv.arena = arena;
  char what[160];
  snprintf(what, sizeof what, "Lua function `%s`", function);
  int ds = run_driver(b, &c);
  IexStatus rc = finish(b, &c, ds, what, err);
  if (rc == IEX_OK) *out = c.result;
  else if (caller_location && caller_location[0]) err_set_location(err, caller_location);
  return rc;
}

/* ---- Lua for a compiled flow -------------------------------------------- */

struct LuaFlow {
  const Program *p;  /* borrowed; outlives the LuaFlow */
  LuaBridge **bridges; /* owned; one per use of p (NULL for connectors) */
  uint32_t n;          /* p->n_uses */
};

void lua_flow_free(LuaFlow *lf) {
  if (!lf) return;
  for (uint32_t i = 0; i < lf->n; i++) lua_bridge_free(lf->bridges[i]);
  free(lf->bridges);
  free(lf);
}

IexStatus lua_flow_new(const Program *p, const LuaLimits *limits, LuaFlow **out, Err *err) {
  if (err) err_init(err);
  LuaFlow *lf = xcalloc(1, sizeof *lf);
  lf->p = p;
  lf->n = p->n_uses;
  lf->bridges = xcalloc(p->n_uses ? p->n_uses : 1, sizeof *lf->bridges);
  /* Name the file as it lies beside the flow, so messages point at it. */
  Str dir = str_make("", 0);
  const char *slash = p->source_path.len
                          ? memrchr(p->source_path.ptr, '/', p->source_path.len) : NULL;
  if (slash) dir = str_make(p->source_path.ptr, (size_t)(slash - p->source_path.ptr) + 1);
  for (uint32_t i = 0; i < p->n_uses; i++) {
    const ProgUse *u = &p->uses[i];
    if (!u->lua_file.len) continue;
    char name[LUA_IDSIZE + 64];
    snprintf(name, sizeof name, "%.*s%.*s", STR_FMT(dir), STR_FMT(u->lua_file));
    lf->bridges[i] = lua_bridge_new(limits, (Rounding)p->rounding);
    IexStatus rc = lua_bridge_load_text(lf->bridges[i], name, u->lua_source.ptr,
                                        u->lua_source.len, err);
    if (rc != IEX_OK) {
      lua_flow_free(lf);
      return rc;
    }
  }
  *out = lf;
  return IEX_OK;
}

bool lua_flow_call(void *lua_flow, Str name, const Value *args, uint32_t argc, Arena *arena,
                   Value *out, Buf *error) {
  LuaFlow *lf = lua_flow;
  const char *dot = memchr(name.ptr, '.', name.len);
  Str use = str_make(name.ptr, dot ? (size_t)(dot - name.ptr) : 0);
  char fn[256];
  if (dot && name.len - use.len - 1 < sizeof fn) {
    snprintf(fn, sizeof fn, "%.*s", (int)(name.len - use.len - 1), dot + 1);
    for (uint32_t i = 0; i < lf->n; i++) {
      if (!lf->bridges[i] || !str_eq(lf->p->uses[i].name, use)) continue;
      Err err;
      err_init(&err);
      if (lua_bridge_call(lf->bridges[i], fn, args, argc, arena, out, NULL, &err) == IEX_OK)
        return true;
      buf_puts(error, err_text(&err));
      return false;
    }
  }
  buf_printf(error, "no Lua file is used as `%.*s`", STR_FMT(use));
  return false;
}

static void lua_flow_release(void *lf) { lua_flow_free(lf); }

IexStatus lua_flow_attach(Vm *vm, Program *p, const LuaLimits *limits, Err *err) {
  LuaFlow *lf;
  IexStatus rc = lua_flow_new(p, limits, &lf, err);
  if (rc != IEX_OK) return rc;
  arena_on_free(&p->arena, lua_flow_release, lf);
  vm_set_lua(vm, lua_flow_call, lf);
  return IEX_OK;
}
