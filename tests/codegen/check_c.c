/* check_c.c: static checks of a generated program with libclang, the rules
 * of runtime/m7rt.h that a C compiler does not enforce:
 *  - at most 64 vector values (m7_vec locals, arrays counted by elements)
 *    declared in any function: the kernels never need more registers;
 *  - no float arithmetic in plain C inside functions (only runtime
 *    operations compute on data);
 *  - calls only to the runtime (m7_*), compiler builtins, or functions the
 *    file defines itself.
 */
#include "check_c.h"

#include <clang-c/Index.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *err;
    size_t n;
    int bad;
    long vecs;          /* m7_vec values declared in the current function */
    char fn[128];
} Ctx;

static void fail(Ctx *c, CXCursor cur, const char *what) {
    if (c->bad++)
        return;
    CXSourceLocation loc = clang_getCursorLocation(cur);
    unsigned line;
    clang_getSpellingLocation(loc, NULL, &line, NULL, NULL);
    snprintf(c->err, c->n, "line %u, in %s: %s", line, c->fn, what);
}

/* Elements of type t that are m7_vec (0 if none). */
static long vec_count(CXType t) {
    if (t.kind == CXType_ConstantArray)
        return (long)clang_getArraySize(t) * vec_count(clang_getArrayElementType(t));
    CXString s = clang_getTypeSpelling(clang_getCanonicalType(t));
    long r = strstr(clang_getCString(s), "m7_vec") != NULL && t.kind != CXType_Pointer;
    clang_disposeString(s);
    return r;
}

static int is_float(CXType t) {
    t = clang_getCanonicalType(t);
    return t.kind == CXType_Float || t.kind == CXType_Double || t.kind == CXType_LongDouble;
}

static enum CXChildVisitResult in_function(CXCursor cur, CXCursor parent, CXClientData data) {
    (void)parent;
    Ctx *c = data;
    enum CXCursorKind k = clang_getCursorKind(cur);
    if (k == CXCursor_VarDecl || k == CXCursor_ParmDecl) {
        c->vecs += vec_count(clang_getCursorType(cur));
        if (c->vecs > 64)
            fail(c, cur, "more than 64 vector values");
    } else if ((k == CXCursor_BinaryOperator || k == CXCursor_CompoundAssignOperator) &&
               is_float(clang_getCursorType(cur))) {
        fail(c, cur, "float arithmetic in plain C");
    } else if (k == CXCursor_CallExpr) {
        CXCursor callee = clang_getCursorReferenced(cur);
        CXString name = clang_getCursorSpelling(callee);
        const char *nm = clang_getCString(name);
        int ok = !strncmp(nm, "m7_", 3) || !strncmp(nm, "__builtin", 9);
        if (!ok) { /* a function of the file itself */
            CXCursor def = clang_getCursorDefinition(callee);
            ok = !clang_Cursor_isNull(def) && clang_Location_isFromMainFile(clang_getCursorLocation(def));
        }
        if (!ok) {
            char msg[200];
            snprintf(msg, sizeof msg, "call to '%s', neither the runtime nor the file's own", nm);
            fail(c, cur, msg);
        }
        clang_disposeString(name);
    }
    return CXChildVisit_Recurse;
}

static enum CXChildVisitResult top(CXCursor cur, CXCursor parent, CXClientData data) {
    (void)parent;
    Ctx *c = data;
    if (clang_getCursorKind(cur) == CXCursor_FunctionDecl && clang_isCursorDefinition(cur) &&
        clang_Location_isFromMainFile(clang_getCursorLocation(cur))) {
        CXString s = clang_getCursorSpelling(cur);
        snprintf(c->fn, sizeof c->fn, "%s", clang_getCString(s));
        clang_disposeString(s);
        c->vecs = 0;
        clang_visitChildren(cur, in_function, c);
    }
    return CXChildVisit_Continue;
}

int check_generated_c(const char *path, const char *const *includes, int n_inc, char *err, size_t n) {
    const char *args[16];
    char buf[8][512];
    int na = 0;
    args[na++] = "-std=c11";
    args[na++] = "-I" CHECK_C_CLANG_INC;
    for (int i = 0; i < n_inc && i < 8; i++) {
        snprintf(buf[i], sizeof buf[i], "-I%s", includes[i]);
        args[na++] = buf[i];
    }
    CXIndex idx = clang_createIndex(0, 0);
    CXTranslationUnit tu = clang_parseTranslationUnit(idx, path, args, na, NULL, 0, CXTranslationUnit_None);
    Ctx c = {err, n, 0, 0, ""};
    if (!tu) {
        snprintf(err, n, "libclang cannot parse %s", path);
        clang_disposeIndex(idx);
        return -1;
    }
    for (unsigned i = 0; i < clang_getNumDiagnostics(tu) && !c.bad; i++) {
        CXDiagnostic dg = clang_getDiagnostic(tu, i);
        if (clang_getDiagnosticSeverity(dg) >= CXDiagnostic_Error) {
            CXString s = clang_formatDiagnostic(dg, clang_defaultDiagnosticDisplayOptions());
            snprintf(err, n, "%s", clang_getCString(s));
            clang_disposeString(s);
            c.bad = 1;
        }
        clang_disposeDiagnostic(dg);
    }
    if (!c.bad)
        clang_visitChildren(clang_getTranslationUnitCursor(tu), top, &c);
    clang_disposeTranslationUnit(tu);
    clang_disposeIndex(idx);
    return c.bad ? -1 : 0;
}
