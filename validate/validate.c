/* validate.c: libclang validation of C written against m7rt.h (validate.h
 * lists the rules and their approximations).
 *
 * One parse with a detailed preprocessing record.  Pass 1 goes over the top
 * level: the runtime's register types and the declared on-chip use
 * (<NAME>_AM_BYTES macros).  Pass 2 walks every declaration of the checked
 * files recursively, keeping the count of m7_vec values in scope.  libclang
 * 14 gives no operator kinds, so operators are read from their tokens, and
 * addresses are recognised by value (a constant memory base on the left of a
 * 64-bit operator), which sees through any macro that built them. */
#include "validate/validate.h"

#include <clang-c/Index.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/m7rt.h"

#ifndef M7_RUNTIME_INCLUDE_DIR
#define M7_RUNTIME_INCLUDE_DIR "runtime"
#endif

enum { MEM_AM, MEM_SM, MEM_GSM, NMEM };
static const char *const mem_name[NMEM] = {"AM", "SM", "GSM"};

typedef struct { /* an object-like macro with an integer value */
    char *name;
    int64_t value;
} Macro;

typedef struct {
    const ValidateLimits *lim;
    FILE *out;
    CXTranslationUnit tu;
    CXFile rt;            /* m7rt.h as included */
    CXCursor vec, scalar; /* the structs behind m7_vec and m7_scalar */
    int problems;
    Macro *macros;
    size_t nmacros, capmacros;
    int declared[NMEM];             /* some <NAME>_<MEM>_BYTES exists */
    int dynamic[NMEM];              /* some address of that memory is not constant */
    CXSourceLocation first_dynamic[NMEM];
    int in_fn, vec_now, vec_max;    /* m7_vec values in scope in this function */
    int in_splat;                   /* inside the immediate of m7_vsplat */
} V;

/* ---- small helpers ----------------------------------------------------- */

static void str(CXString s, char *buf, size_t len) {
    const char *p = clang_getCString(s);
    snprintf(buf, len, "%s", p ? p : "");
    clang_disposeString(s);
}

static const char *spelling(CXCursor c, char *buf, size_t len) {
    str(clang_getCursorSpelling(c), buf, len);
    return buf;
}

static const char *type_name(CXType t, char *buf, size_t len) {
    str(clang_getTypeSpelling(t), buf, len);
    return buf;
}

static void vprint(V *v, CXSourceLocation loc, const char *sev, const char *rule,
                   const char *fmt, va_list ap) {
    CXFile f;
    unsigned line, col;
    clang_getExpansionLocation(loc, &f, &line, &col, NULL);
    if (f) {
        char name[4096];
        str(clang_getFileName(f), name, sizeof name);
        fprintf(v->out, "%s:%u:%u: ", name, line, col);
    } else {
        CXString s = clang_getTranslationUnitSpelling(v->tu);
        fprintf(v->out, "%s: ", clang_getCString(s));
        clang_disposeString(s);
    }
    fprintf(v->out, "%s: %s: ", sev, rule);
    vfprintf(v->out, fmt, ap);
    fputc('\n', v->out);
}

/* One line of the report; notes do not count as problems. */
static void say(V *v, CXSourceLocation loc, const char *sev, const char *rule, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprint(v, loc, sev, rule, fmt, ap);
    va_end(ap);
    v->problems += strcmp(sev, "note") != 0;
}

#define problem(v, loc, ...) say(v, loc, "error", __VA_ARGS__)

static void *grow(void *p, size_t *cap, size_t n, size_t size) {
    if (n < *cap)
        return p;
    size_t c = *cap ? 2 * *cap : 64;
    void *q = realloc(p, c * size);
    if (!q) {
        fprintf(stderr, "validate: out of memory\n");
        abort();
    }
    *cap = c;
    return q;
}

/* Code in system headers and in m7rt.h is the platform's, not checked. */
static int checked_loc(V *v, CXSourceLocation loc) {
    if (clang_Location_isInSystemHeader(loc))
        return 0;
    CXFile f;
    clang_getExpansionLocation(loc, &f, NULL, NULL, NULL);
    return f && !clang_File_isEqual(f, v->rt);
}

typedef struct {
    CXCursor c[4];
    int n;
} Kids;

static enum CXChildVisitResult kid(CXCursor c, CXCursor parent, CXClientData d) {
    (void)parent;
    Kids *k = d;
    if (k->n < 4)
        k->c[k->n++] = c;
    return CXChildVisit_Continue;
}

static Kids kids(CXCursor c) {
    Kids k = {.n = 0};
    clang_visitChildren(c, kid, &k);
    return k;
}

static int is_float(CXType t) {
    switch (clang_getCanonicalType(t).kind) {
    case CXType_Float: case CXType_Double: case CXType_LongDouble: case CXType_Half:
    case CXType_Float16: case CXType_Float128: case CXType_BFloat16: case CXType_Complex:
        return 1;
    default:
        return 0;
    }
}

static int is_int(CXType t) {
    enum CXTypeKind k = clang_getCanonicalType(t).kind;
    return (k >= CXType_Bool && k <= CXType_Int128) || k == CXType_Enum;
}

static int is_ptr(CXType t) {
    switch (clang_getCanonicalType(t).kind) {
    case CXType_Pointer: case CXType_ConstantArray: case CXType_IncompleteArray:
    case CXType_VariableArray: case CXType_FunctionProto: case CXType_FunctionNoProto:
        return 1;
    default:
        return 0;
    }
}

/* Whether clang folds expression c to a constant; its integer value in *val. */
static int evaluate(CXCursor c, uint64_t *val) {
    CXEvalResult r = clang_Cursor_Evaluate(c);
    if (!r)
        return 0;
    CXEvalResultKind k = clang_EvalResult_getKind(r);
    if (k == CXEval_Int && val)
        *val = clang_EvalResult_isUnsignedInt(r) ? clang_EvalResult_getAsUnsigned(r)
                                                 : (uint64_t)clang_EvalResult_getAsLongLong(r);
    clang_EvalResult_dispose(r);
    return k != CXEval_UnExposed && (k == CXEval_Int || !val);
}

/* The first punctuation token in range r (an operator), "" if none. */
static void punct_in(V *v, CXSourceRange r, int last, char *buf, size_t len) {
    CXToken *t;
    unsigned n;
    buf[0] = 0;
    clang_tokenize(v->tu, r, &t, &n);
    for (unsigned i = 0; i < n; i++) {
        unsigned j = last ? n - 1 - i : i;
        if (clang_getTokenKind(t[j]) == CXToken_Punctuation) {
            str(clang_getTokenSpelling(v->tu, t[j]), buf, len);
            break;
        }
    }
    clang_disposeTokens(v->tu, t, n);
}

/* The spelling of the operator of a unary or binary operator cursor (libclang
 * 14 has no API for it): the token between the operands, or the prefix or
 * postfix token.  "" when macros hide it. */
static void op_spelling(V *v, CXCursor c, Kids *k, char *buf, size_t len) {
    if (k->n == 2) {
        CXSourceRange between = clang_getRange(clang_getRangeEnd(clang_getCursorExtent(k->c[0])),
                                               clang_getRangeStart(clang_getCursorExtent(k->c[1])));
        punct_in(v, between, 0, buf, len);
        return;
    }
    static const char *const prefix[] = {"-", "+", "!", "~", "*", "&", "++", "--"};
    punct_in(v, clang_getCursorExtent(c), 0, buf, len);
    for (size_t i = 0; i < sizeof prefix / sizeof *prefix; i++)
        if (!strcmp(buf, prefix[i]))
            return;
    punct_in(v, clang_getCursorExtent(c), 1, buf, len); /* x++ */
}

/* ---- register types ---------------------------------------------------- */

static int is_decl(CXType t, CXCursor d) {
    t = clang_getCanonicalType(t);
    return t.kind == CXType_Record && !clang_Cursor_isNull(d) &&
           clang_equalCursors(clang_getTypeDeclaration(t), d);
}

typedef struct {
    V *v;
    long n;
} FieldCount;

static long vec_count(V *v, CXType t);

static enum CXVisitorResult count_field(CXCursor c, CXClientData d) {
    FieldCount *fc = d;
    long n = vec_count(fc->v, clang_getCursorType(c));
    fc->n = n < 0 || fc->n < 0 ? -1 : fc->n + n > 1 << 20 ? 1 << 20 : fc->n + n;
    return CXVisit_Continue;
}

/* m7_vec values held by an object of type t; -1 if not a constant count. */
static long vec_count(V *v, CXType t) {
    t = clang_getCanonicalType(t);
    switch (t.kind) {
    case CXType_Record: {
        if (is_decl(t, v->vec))
            return 1;
        FieldCount fc = {v, 0};
        clang_Type_visitFields(t, count_field, &fc);
        return fc.n;
    }
    case CXType_ConstantArray: { /* saturated: far beyond any register file */
        long n = vec_count(v, clang_getArrayElementType(t)), len = (long)clang_getArraySize(t);
        return n <= 0 ? n : len > (1 << 20) / n ? 1 << 20 : n * len;
    }
    case CXType_IncompleteArray: case CXType_VariableArray:
        return vec_count(v, clang_getArrayElementType(t)) ? -1 : 0;
    default:
        return 0;
    }
}

/* ---- pass 1: top level ------------------------------------------------- */

static int bytes_suffix(const char *name) {
    static const char *const suffix[NMEM] = {"_AM_BYTES", "_SM_BYTES", "_GSM_BYTES"};
    size_t n = strlen(name);
    for (int m = 0; m < NMEM; m++) {
        size_t s = strlen(suffix[m]);
        if (n > s && !strcmp(name + n - s, suffix[m]))
            return m;
    }
    return -1;
}

static int64_t capacity(V *v, int mem) {
    return mem == MEM_AM ? v->lim->am_bytes : mem == MEM_SM ? v->lim->sm_bytes : v->lim->gsm_bytes;
}

static void declared_use(V *v, CXSourceLocation loc, const char *name, int mem, int64_t bytes) {
    v->declared[mem] = 1;
    if (bytes < 0 || bytes > capacity(v, mem))
        problem(v, loc, "mem-decl", "'%s' declares %lld bytes of %s; the capacity is %lld bytes",
                name, (long long)bytes, mem_name[mem], (long long)capacity(v, mem));
}

/* An integer constant expression over macro body tokens: literals, ( ),
 * unary - + ~, binary * / % + - << >> & ^ |, and earlier macros. */
typedef struct {
    V *v;
    CXToken *t;
    unsigned n, i;
    int ok, depth; /* depth: nesting, bounded so that no body overflows the stack */
} Ev;

static void tok(Ev *e, char *buf, size_t len) {
    if (e->i < e->n)
        str(clang_getTokenSpelling(e->v->tu, e->t[e->i]), buf, len);
    else
        buf[0] = 0;
}

static int64_t ev_binary(Ev *e, int min_prec);
static int64_t ev_leaf(Ev *e, const char *s, CXTokenKind k);

static int64_t ev_primary(Ev *e) {
    char s[256];
    tok(e, s, sizeof s);
    if (e->i >= e->n || ++e->depth > 256) {
        e->ok = 0;
        return 0;
    }
    CXTokenKind k = clang_getTokenKind(e->t[e->i++]);
    int64_t x = 0;
    if (!strcmp(s, "(")) {
        x = ev_binary(e, 0);
        tok(e, s, sizeof s);
        e->i++;
        if (strcmp(s, ")"))
            e->ok = 0;
    } else if (!strcmp(s, "-")) {
        x = (int64_t)(0 - (uint64_t)ev_primary(e));
    } else if (!strcmp(s, "+")) {
        x = ev_primary(e);
    } else if (!strcmp(s, "~")) {
        x = ~ev_primary(e);
    } else {
        x = ev_leaf(e, s, k);
    }
    e->depth--;
    return x;
}

static int64_t ev_leaf(Ev *e, const char *s, CXTokenKind k) {
    if (k == CXToken_Literal) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 0);
        if (errno || end == s || strspn(end, "uUlL") != strlen(end))
            e->ok = 0;
        return (int64_t)x;
    }
    if (k == CXToken_Identifier)
        for (size_t i = 0; i < e->v->nmacros; i++)
            if (!strcmp(e->v->macros[i].name, s))
                return e->v->macros[i].value;
    e->ok = 0;
    return 0;
}

static int prec(const char *op) {
    static const char *const ops[] = {"|", "^", "&", "<<", ">>", "+", "-", "*", "/", "%"};
    static const int p[] = {1, 2, 3, 4, 4, 5, 5, 6, 6, 6};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(op, ops[i]))
            return p[i];
    return 0;
}

static int64_t ev_binary(Ev *e, int min_prec) {
    int64_t x = ev_primary(e);
    char op[8];
    for (;;) {
        tok(e, op, sizeof op);
        int p = prec(op);
        if (!e->ok || !p || p <= min_prec)
            return x;
        e->i++;
        int64_t y = ev_binary(e, p);
        uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
        switch (op[0]) {
        case '|': x = (int64_t)(ux | uy); break;
        case '^': x = (int64_t)(ux ^ uy); break;
        case '&': x = (int64_t)(ux & uy); break;
        case '<': x = y < 0 || y > 62 ? (e->ok = 0) : (int64_t)(ux << y); break;
        case '>': x = y < 0 || y > 63 ? (e->ok = 0) : x >> y; break;
        case '+': x = (int64_t)(ux + uy); break;
        case '-': x = (int64_t)(ux - uy); break;
        case '*': x = (int64_t)(ux * uy); break;
        default: /* / % */
            if (y == 0 || (y == -1 && x == INT64_MIN))
                return e->ok = 0;
            x = op[0] == '/' ? x / y : x % y;
        }
    }
}

static void macro_definition(V *v, CXCursor c) {
    if (clang_Cursor_isMacroFunctionLike(c) || clang_Cursor_isMacroBuiltin(c))
        return;
    char name[256];
    spelling(c, name, sizeof name);
    Ev e = {.v = v, .i = 1, .ok = 1}; /* token 0 is the macro's name */
    clang_tokenize(v->tu, clang_getCursorExtent(c), &e.t, &e.n);
    int64_t x = e.n > 1 ? ev_binary(&e, 0) : (e.ok = 0);
    e.ok &= e.i == e.n;
    clang_disposeTokens(v->tu, e.t, e.n);
    if (e.ok) {
        v->macros = grow(v->macros, &v->capmacros, v->nmacros, sizeof *v->macros);
        v->macros[v->nmacros++] = (Macro){strdup(name), x};
    }
    int mem = bytes_suffix(name);
    if (mem < 0)
        return;
    if (e.ok)
        declared_use(v, clang_getCursorLocation(c), name, mem, x);
    else {
        v->declared[mem] = 1;
        problem(v, clang_getCursorLocation(c), "mem-decl",
                "'%s' is not an integer constant expression of literals and earlier macros", name);
    }
}

static enum CXChildVisitResult top_level(CXCursor c, CXCursor parent, CXClientData d) {
    (void)parent;
    V *v = d;
    enum CXCursorKind k = clang_getCursorKind(c);
    CXSourceLocation loc = clang_getCursorLocation(c);
    char name[64];
    if (k == CXCursor_TypedefDecl) {
        CXFile f;
        clang_getExpansionLocation(loc, &f, NULL, NULL, NULL);
        if (f && clang_File_isEqual(f, v->rt)) {
            spelling(c, name, sizeof name);
            CXType t = clang_getCanonicalType(clang_getTypedefDeclUnderlyingType(c));
            if (!strcmp(name, "m7_vec"))
                v->vec = clang_getTypeDeclaration(t);
            else if (!strcmp(name, "m7_scalar"))
                v->scalar = clang_getTypeDeclaration(t);
        }
    } else if (k == CXCursor_MacroDefinition && checked_loc(v, loc)) {
        macro_definition(v, c);
    }
    return CXChildVisit_Continue;
}

/* ---- pass 2: the rules on expressions and declarations ----------------- */

/* MEM_* of an address, -1 for DDR or garbage. */
static int on_chip(uint64_t a) {
    int code = M7_ADDR_MEM(a);
    return code == M7_MEM_AM ? MEM_AM : code == M7_MEM_SM ? MEM_SM : code == M7_MEM_GSM ? MEM_GSM : -1;
}

/* M7_ADDR(mem, off) is `(mem << M7_MEM_SHIFT) | off`: a 64-bit operator
 * whose left operand is a memory's base address starts an on-chip address
 * (also `M7_AM(0) + off`), whatever macros wrote it. */
static void address(V *v, CXCursor c) {
    enum CXTypeKind t = clang_getCanonicalType(clang_getCursorType(c)).kind;
    if (t != CXType_ULong && t != CXType_ULongLong)
        return;
    Kids kd = kids(c);
    uint64_t base, a;
    if (kd.n != 2 || !evaluate(kd.c[0], &base) || M7_ADDR_OFF(base))
        return;
    int mem = on_chip(base);
    if (mem < 0)
        return;
    if (!evaluate(c, &a)) {
        if (!v->dynamic[mem]) {
            v->dynamic[mem] = 1;
            v->first_dynamic[mem] = clang_getCursorLocation(c);
        }
    } else if (M7_ADDR_OFF(a) >= (uint64_t)capacity(v, mem) || on_chip(a) != mem) {
        problem(v, clang_getCursorLocation(c), "mem-addr",
                "%s address at offset %llu is beyond the %s capacity of %lld bytes", mem_name[mem],
                (unsigned long long)(a - base), mem_name[mem], (long long)capacity(v, mem));
    }
}

static int allowed_function(V *v, CXCursor fn) {
    CXFile f;
    clang_getExpansionLocation(clang_getCursorLocation(clang_getCanonicalCursor(fn)), &f, NULL,
                               NULL, NULL);
    if (f && clang_File_isEqual(f, v->rt))
        return 1;
    CXCursor def = clang_getCursorDefinition(fn);
    return !clang_Cursor_isNull(def) && checked_loc(v, clang_getCursorLocation(def));
}

static void function_ref(V *v, CXCursor c) {
    CXCursor fn = clang_getCursorReferenced(c);
    if (clang_getCursorKind(fn) != CXCursor_FunctionDecl || allowed_function(v, fn))
        return;
    char name[256];
    problem(v, clang_getCursorLocation(c), "call",
            "'%s' is neither a runtime operation (m7rt.h) nor a function defined in this file",
            spelling(fn, name, sizeof name));
}

/* Argument i of call c, if constant. */
static int const_arg(CXCursor c, int i, uint64_t *x) {
    return i < clang_Cursor_getNumArguments(c) && evaluate(clang_Cursor_getArgument(c, i), x);
}

/* A runtime access at a constant on-chip address must end within capacity
 * (a start beyond it is address()'s report). */
static void footprint(V *v, CXCursor c, const char *op, int arg, uint64_t bytes) {
    uint64_t a;
    int mem;
    if (!const_arg(c, arg, &a) || (mem = on_chip(a)) < 0)
        return;
    uint64_t off = M7_ADDR_OFF(a), cap = (uint64_t)capacity(v, mem);
    if (off < cap && bytes > cap - off)
        problem(v, clang_getCursorLocation(c), "mem-addr",
                "%s at %s offset %llu touches %llu bytes, beyond the %s capacity of %llu bytes", op,
                mem_name[mem], (unsigned long long)off, (unsigned long long)bytes, mem_name[mem],
                (unsigned long long)cap);
}

/* A call through a pointer of type M7kConvMk or M7kGwMk (target/m7k.h):
 * the indirect calls the kernel library makes, to the micro-kernels codegen
 * emitted for a conv or weight-gradient plan. */
static int mk_pointer_call(CXCursor c) {
    Kids k = kids(c);
    if (k.n < 1)
        return 0;
    CXString s = clang_getTypeSpelling(clang_getCursorType(k.c[0]));
    const char *type = clang_getCString(s);
    int ok = strstr(type, "M7kConvMk") != NULL || strstr(type, "M7kGwMk") != NULL;
    clang_disposeString(s);
    return ok;
}

/* Checks a call; returns 1 when it is m7_vsplat. */
static int call(V *v, CXCursor c) {
    static const struct {
        const char *name;
        unsigned bytes; /* at argument 0 */
    } ops[] = {{"m7_vld", 128}, {"m7_vld_u", 128}, {"m7_vld2", 256}, {"m7_vst", 128},
               {"m7_vst2", 256}, {"m7_vst_n", 0}, {"m7_sld", 4}, {"m7_sld2", 8}, {"m7_sst", 4}};
    CXCursor fn = clang_getCursorReferenced(c);
    if (clang_getCursorKind(fn) != CXCursor_FunctionDecl && mk_pointer_call(c))
        return 0; /* a plan's micro-kernels: the file's own functions, by the plan's mk */
    if (clang_getCursorKind(fn) != CXCursor_FunctionDecl) {
        problem(v, clang_getCursorLocation(c), "call",
                "indirect call through a pointer: kernels call runtime operations and their own functions");
        return 0;
    }
    char name[64];
    spelling(fn, name, sizeof name);
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        uint64_t n = 1; /* m7_vst_n: n lanes */
        if (!strcmp(name, ops[i].name))
            footprint(v, c, name, 0, ops[i].bytes ? ops[i].bytes : 4 * (const_arg(c, 2, &n) ? n : 1));
    }
    uint64_t rows, row_bytes, stride;
    if ((!strcmp(name, "m7_dma") || !strcmp(name, "m7_dma_bcast")) && const_arg(c, 3, &rows) &&
        const_arg(c, 4, &row_bytes) && rows > 0 && rows <= UINT32_MAX && row_bytes <= UINT32_MAX)
        for (int side = 0; side < 2; side++) /* dst: argument 1, stride 5; src: 2, 6 */
            if (const_arg(c, 5 + side, &stride) && stride < (UINT64_C(1) << 32))
                footprint(v, c, name, 1 + side, (rows - 1) * stride + row_bytes);
    return !strcmp(name, "m7_vsplat") && allowed_function(v, fn);
}

static void deref(V *v, CXCursor c, CXType t) {
    char tn[128];
    if (v->in_splat)
        return; /* m7_vsplat(plan->alpha): an immediate the code generator chose */
    problem(v, clang_getCursorLocation(c), "deref",
            "'%s' data reached through a pointer or array in plain C; machine data is reached only "
            "through runtime operations", type_name(t, tn, sizeof tn));
}

static void operator(V *v, CXCursor c, enum CXCursorKind k) {
    Kids kd = kids(c);
    int fl = is_float(clang_getCursorType(c));
    for (int i = 0; i < kd.n; i++)
        fl |= is_float(clang_getCursorType(kd.c[i]));
    if (!fl)
        return;
    char op[8];
    op_spelling(v, c, &kd, op, sizeof op);
    if (k == CXCursor_UnaryOperator && !strcmp(op, "*")) {
        if (is_float(clang_getCursorType(c)))
            deref(v, c, clang_getCursorType(c));
        return;
    }
    if ((k == CXCursor_UnaryOperator && !strcmp(op, "&")) ||
        (k == CXCursor_BinaryOperator && (!strcmp(op, "=") || !strcmp(op, ","))))
        return;
    if (evaluate(c, NULL))
        return;
    problem(v, clang_getCursorLocation(c), "float-op",
            "floating-point '%s' in plain C; kernels compute with the vector operations of m7rt.h",
            op[0] ? op : "operator");
}

static void cast(V *v, CXCursor c) {
    Kids kd = kids(c);
    int i = kd.n - 1;
    while (i >= 0 && !clang_isExpression(clang_getCursorKind(kd.c[i])))
        i--;
    if (i < 0)
        return;
    CXType to = clang_getCursorType(c), from = clang_getCursorType(kd.c[i]);
    char a[128], b[128];
    uint64_t x;
    if (is_ptr(to) && is_int(from) && !(evaluate(kd.c[i], &x) && x == 0))
        problem(v, clang_getCursorLocation(c), "addr-cast",
                "cast of integer '%s' to pointer '%s': machine addresses are integers, reached only "
                "through runtime operations", type_name(from, a, sizeof a), type_name(to, b, sizeof b));
    else if (is_int(to) && is_ptr(from))
        problem(v, clang_getCursorLocation(c), "addr-cast",
                "cast of pointer '%s' to integer '%s': host pointers are not machine addresses",
                type_name(from, a, sizeof a), type_name(to, b, sizeof b));
}

/* a.m7_private_lane[i] is reported as private only. */
static int private_base(CXCursor c) {
    char name[64] = "";
    for (Kids kd = kids(c); kd.n > 0; kd = kids(kd.c[0])) {
        enum CXCursorKind k = clang_getCursorKind(kd.c[0]);
        if (k == CXCursor_MemberRefExpr)
            return !strncmp(spelling(kd.c[0], name, sizeof name), "m7_private_", 11);
        if (k != CXCursor_UnexposedExpr && k != CXCursor_ParenExpr)
            return 0;
    }
    return 0;
}

static void member(V *v, CXCursor c, enum CXCursorKind k) {
    char name[256];
    spelling(c, name, sizeof name);
    if (!strncmp(name, "m7_private_", 11)) {
        problem(v, clang_getCursorLocation(c), "private",
                "'%s' is the simulator's: register values are used only through runtime operations",
                name);
        return;
    }
    if (k != CXCursor_MemberRefExpr || !is_float(clang_getCursorType(c)))
        return;
    Kids kd = kids(c); /* p->x: the base is a pointer */
    if (kd.n > 0 && clang_getCanonicalType(clang_getCursorType(kd.c[0])).kind == CXType_Pointer)
        deref(v, c, clang_getCursorType(c));
}

/* Returns 1 when reported (the initialiser's inner lists are not looked at). */
static int init_list(V *v, CXCursor c) {
    CXType t = clang_getCursorType(c);
    if (!vec_count(v, t) && !is_decl(t, v->scalar))
        return 0;
    char tn[128];
    problem(v, clang_getCursorLocation(c), "private",
            "'%s' built from an initialiser list; register values come only from runtime operations",
            type_name(t, tn, sizeof tn));
    return 1;
}

static void live(V *v, int n) {
    if (v->vec_now + n > v->vec_max)
        v->vec_max = v->vec_now + n;
}

static void variable(V *v, CXCursor c) {
    long n = vec_count(v, clang_getCursorType(c));
    char name[256];
    if (n < 0)
        problem(v, clang_getCursorLocation(c), "vregs",
                "'%s' holds a number of m7_vec values that is not a constant",
                spelling(c, name, sizeof name));
    else
        live(v, 0), v->vec_now += (int)n, live(v, 0);
}

static int visit(V *v, CXCursor c, int sink);

/* How a cursor's children are evaluated: in order; a call holds its m7_vec
 * arguments until it is made; the value of an assignment's right side or of
 * an initialiser goes straight into its variable (a sink), not into a
 * temporary. */
enum { PLAIN, CALL, ASSIGN, SINK };

typedef struct {
    V *v;
    int mode, i, held, temps;
} Children;

static enum CXChildVisitResult child(CXCursor c, CXCursor parent, CXClientData d) {
    (void)parent;
    Children *ch = d;
    int sink = ch->mode == SINK || (ch->mode == ASSIGN && ch->i == 1);
    int n = visit(ch->v, c, sink);
    ch->i++;
    live(ch->v, ch->held + n);
    if (ch->held + n > ch->temps)
        ch->temps = ch->held + n;
    if (ch->mode == CALL && n > 0 && vec_count(ch->v, clang_getCursorType(c)) == 1)
        ch->held++;
    return CXChildVisit_Continue;
}

/* Visits the children of c; returns the peak of m7_vec temporaries. */
static int children(V *v, CXCursor c, int mode) {
    Children ch = {v, mode, 0, 0, 0};
    clang_visitChildren(c, child, &ch);
    return ch.temps;
}

static void function(V *v, CXCursor c) {
    int in_fn = v->in_fn, now = v->vec_now, max = v->vec_max;
    v->in_fn = 1;
    v->vec_now = v->vec_max = 0;
    children(v, c, PLAIN);
    char name[256];
    if (v->vec_max > v->lim->vregs)
        problem(v, clang_getCursorLocation(c), "vregs",
                "function '%s' has up to %d m7_vec values live (variables in scope and "
                "temporaries); the machine has %d vector registers",
                spelling(c, name, sizeof name), v->vec_max, v->lim->vregs);
    v->in_fn = in_fn, v->vec_now = now, v->vec_max = max;
}

/* Checks c and what it contains; returns the m7_vec temporaries it needs at
 * its peak, its own value included unless it sinks into a variable. */
static int visit(V *v, CXCursor c, int sink) {
    enum CXCursorKind k = clang_getCursorKind(c);
    switch (k) {
    case CXCursor_FunctionDecl:
        if (clang_isCursorDefinition(c))
            function(v, c);
        return 0;
    case CXCursor_CompoundStmt:
    case CXCursor_ForStmt: { /* a scope */
        int now = v->vec_now;
        children(v, c, PLAIN);
        v->vec_now = now;
        return 0;
    }
    case CXCursor_VarDecl:
    case CXCursor_ParmDecl:
        if (!v->in_fn)
            break;
        children(v, c, SINK); /* the initialiser, before the variable lives */
        variable(v, c);
        return 0;
    case CXCursor_DeclRefExpr: function_ref(v, c); break;
    case CXCursor_CallExpr: {
        if (evaluate(c, NULL))
            return 0; /* a builtin folded to a constant: INFINITY is __builtin_inff() */
        int splat = v->in_splat;
        v->in_splat = call(v, c);
        int n = children(v, c, CALL), own = vec_count(v, clang_getCursorType(c)) == 1 && !sink;
        v->in_splat = splat;
        return n > own ? n : own;
    }
    case CXCursor_BinaryOperator:
        address(v, c);
        /* fall through */
    case CXCursor_CompoundAssignOperator:
    case CXCursor_UnaryOperator: operator(v, c, k); break;
    case CXCursor_CStyleCastExpr: cast(v, c); break;
    case CXCursor_ArraySubscriptExpr:
        if (is_float(clang_getCursorType(c)) && !private_base(c))
            deref(v, c, clang_getCursorType(c));
        break;
    case CXCursor_MemberRefExpr:
    case CXCursor_MemberRef: member(v, c, k); break;
    case CXCursor_InitListExpr:
        if (init_list(v, c))
            return 0;
        break;
    case CXCursor_EnumConstantDecl: {
        char name[256];
        int mem = bytes_suffix(spelling(c, name, sizeof name));
        if (mem >= 0)
            declared_use(v, clang_getCursorLocation(c), name, mem, clang_getEnumConstantDeclValue(c));
        break;
    }
    default:
        break;
    }
    int mode = PLAIN;
    if (k == CXCursor_UnexposedExpr || k == CXCursor_ParenExpr)
        mode = sink ? SINK : PLAIN; /* implicit casts and parentheses pass a sink on */
    else if (k == CXCursor_BinaryOperator && vec_count(v, clang_getCursorType(c)) == 1)
        mode = ASSIGN; /* the only operator on structs (',' is as good as) */
    int n = children(v, c, mode);
    return clang_isExpression(k) ? n : 0;
}

static enum CXChildVisitResult check_top(CXCursor c, CXCursor parent, CXClientData d) {
    (void)parent;
    V *v = d;
    enum CXCursorKind k = clang_getCursorKind(c);
    if (!clang_isPreprocessing(k) && checked_loc(v, clang_getCursorLocation(c)))
        visit(v, c, 0);
    return CXChildVisit_Continue;
}

/* ---- the whole file ---------------------------------------------------- */

/* The m7rt.h the file includes: the runtime's, or a byte-identical copy
 * (a generated file may ship with one). */
typedef struct {
    CXFile rt;
} Incl;

static void inclusion(CXFile f, CXSourceLocation *stack, unsigned depth, CXClientData d) {
    (void)stack, (void)depth;
    Incl *in = d;
    char name[4096];
    str(clang_getFileName(f), name, sizeof name);
    const char *base = strrchr(name, '/');
    if (!in->rt && !strcmp(base ? base + 1 : name, "m7rt.h"))
        in->rt = f;
}

static int same_contents(V *v, CXFile f, const char *path) {
    size_t n;
    const char *text = clang_getFileContents(v->tu, f, &n);
    FILE *fp = fopen(path, "rb");
    int same = text && fp;
    for (size_t i = 0; same && i < n; i++)
        same = getc(fp) == (unsigned char)text[i];
    same = same && getc(fp) == EOF;
    if (fp)
        fclose(fp);
    return same;
}

static void device_rules(V *v, const char *rt_path) {
    Incl in = {NULL};
    clang_getInclusions(v->tu, inclusion, &in);
    CXCursor tu = clang_getTranslationUnitCursor(v->tu);
    CXFile runtime = clang_getFile(v->tu, rt_path);
    if (!in.rt) {
        problem(v, clang_getCursorLocation(tu), "runtime",
                "the file does not include m7rt.h; device rules not checked");
        return;
    }
    if (!(runtime && clang_File_isEqual(in.rt, runtime)) && !same_contents(v, in.rt, rt_path)) {
        char name[4096];
        str(clang_getFileName(in.rt), name, sizeof name);
        problem(v, clang_getCursorLocation(tu), "runtime",
                "the file includes %s, which differs from the runtime's %s; device rules not checked",
                name, rt_path);
        return;
    }
    v->rt = in.rt;
    clang_visitChildren(tu, top_level, v);
    clang_visitChildren(tu, check_top, v);
    for (int m = 0; m < NMEM; m++)
        if (v->dynamic[m] && !v->declared[m])
            problem(v, v->first_dynamic[m], "mem-decl",
                    "%s address not constant and the file declares no <NAME>_%s_BYTES "
                    "(validate/validate.h)", mem_name[m], mem_name[m]);
}

/* Prints libclang's warnings and errors with their notes; returns the
 * number of errors. */
static int diagnostics(V *v) {
    static const char *const sev[] = {"ignored", "note", "warning", "error", "error"};
    int errors = 0;
    unsigned n = clang_getNumDiagnostics(v->tu);
    for (unsigned i = 0; i < n; i++) {
        CXDiagnostic d = clang_getDiagnostic(v->tu, i);
        enum CXDiagnosticSeverity s = clang_getDiagnosticSeverity(d);
        if (s >= CXDiagnostic_Warning) {
            char msg[1024], opt[128];
            str(clang_getDiagnosticSpelling(d), msg, sizeof msg);
            str(clang_getDiagnosticOption(d, NULL), opt, sizeof opt);
            say(v, clang_getDiagnosticLocation(d), sev[s], "clang", "%s%s%s%s", msg,
                opt[0] ? " [" : "", opt, opt[0] ? "]" : "");
            errors += s >= CXDiagnostic_Error;
            CXDiagnosticSet notes = clang_getChildDiagnostics(d); /* owned by d */
            for (unsigned j = 0; j < clang_getNumDiagnosticsInSet(notes); j++) {
                CXDiagnostic note = clang_getDiagnosticInSet(notes, j);
                str(clang_getDiagnosticSpelling(note), msg, sizeof msg);
                say(v, clang_getDiagnosticLocation(note), "note", "clang", "%s", msg);
                clang_disposeDiagnostic(note);
            }
        }
        clang_disposeDiagnostic(d);
    }
    return errors;
}

void validate_limits(ValidateLimits *lim, const M7Machine *m) {
    M7Machine def;
    if (!m) {
        m7_machine_default(&def);
        m = &def;
    }
    lim->am_bytes = m->am_bytes;
    lim->sm_bytes = m->sm_bytes;
    lim->gsm_bytes = m->gsm_bytes;
    lim->vregs = m->vregs;
    lim->runtime_include = M7_RUNTIME_INCLUDE_DIR;
}

int validate_c_file(const char *path, const ValidateLimits *lim, FILE *report) {
    ValidateLimits def;
    if (!lim) {
        validate_limits(&def, NULL);
        lim = &def;
    }
    const char *inc = lim->runtime_include ? lim->runtime_include : M7_RUNTIME_INCLUDE_DIR;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f || fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
        fprintf(report, "%s: error: io: cannot read the file: %s\n", path,
                f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    char rt_path[4096];
    snprintf(rt_path, sizeof rt_path, "%s/m7rt.h", inc);
    if (!(f = fopen(rt_path, "r"))) {
        fprintf(report, "%s: error: runtime: cannot read %s (the runtime include directory): %s\n",
                path, rt_path, strerror(errno));
        return -1;
    }
    fclose(f);

    const char *args[] = {"-x", "c", "-std=c11", "-Wall", "-Wextra", "-I", inc};
    CXIndex index = clang_createIndex(0, 0);
    V v = {.lim = lim, .out = report, .vec = clang_getNullCursor(), .scalar = clang_getNullCursor()};
    enum CXErrorCode err = clang_parseTranslationUnit2(
        index, path, args, sizeof args / sizeof *args, NULL, 0,
        CXTranslationUnit_DetailedPreprocessingRecord, &v.tu);
    if (err != CXError_Success) {
        fprintf(report, "%s: error: clang: libclang could not parse the file (error %d)\n", path,
                (int)err);
        clang_disposeIndex(index);
        return -1;
    }
    if (diagnostics(&v) == 0)
        device_rules(&v, rt_path);
    else
        fprintf(report, "%s: note: clang: device rules not checked: the file does not compile\n", path);
    for (size_t i = 0; i < v.nmacros; i++)
        free(v.macros[i].name);
    free(v.macros);
    clang_disposeTranslationUnit(v.tu);
    clang_disposeIndex(index);
    return v.problems ? -1 : 0;
}
