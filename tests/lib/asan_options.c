/* Linked into build/san/dcc only.  dcc is a batch process that lets the
 * operating system take back its memory at exit, as gcc and clang do: its
 * AST, DAG and buffers live until the end, so LeakSanitizer would report
 * every one of them.  Address and undefined-behaviour checks stay on. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
