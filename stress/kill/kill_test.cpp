// Placeholder until the kill test lands: reports "skipped" (exit 77).
int main() { return 77; }
