/* Not written against the runtime. */
int k(int x) {
    return x + 1;
}
