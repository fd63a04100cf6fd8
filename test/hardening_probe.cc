// Built without hardening, for the hardening check's own test: the check
// must reject it (test/CMakeLists.txt, hardening_rejects_a_plain_binary).
int main() { return 0; }
