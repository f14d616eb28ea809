/* addrpool_version() from C11: the loaded library's version is the one
 * <addrpool/version.h> and meson.project_version() name, a static string,
 * and the call leaves the thread's last error alone. */
#include <addrpool/addrpool.h>
#include <addrpool/version.h>

#include <stdio.h>
#include <string.h>

#ifndef ADDRPOOL_EXPECTED_VERSION
#error "test/c/meson.build passes meson.project_version() as ADDRPOOL_EXPECTED_VERSION"
#endif

static int failures = 0;

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        ++failures;
    }
}

int main(void) {
    const char *v = addrpool_version();
    check(v != NULL, "addrpool_version() is not NULL");
    if (v == NULL) return 1;
    check(strcmp(v, ADDRPOOL_EXPECTED_VERSION) == 0, "addrpool_version() is meson.project_version()");
    check(strcmp(v, ADDRPOOL_VERSION_STRING) == 0, "addrpool_version() is ADDRPOOL_VERSION_STRING");

    char parts[64];
    snprintf(parts, sizeof parts, "%d.%d.%d", ADDRPOOL_VERSION_MAJOR, ADDRPOOL_VERSION_MINOR, ADDRPOOL_VERSION_PATCH);
    check(strcmp(v, parts) == 0, "addrpool_version() is MAJOR.MINOR.PATCH of the macros");
    check(addrpool_version() == v, "addrpool_version() returns the same static string every call");

    /* A failed call sets the last error; addrpool_version() must not clear it. */
    check(addrpool_pool_options_init(NULL) == ADDRPOOL_E_NULL_ARGUMENT, "options_init(NULL) fails");
    const char *before = addrpool_last_error();
    check(before[0] != '\0', "a failed call leaves a message");
    char saved[256];
    snprintf(saved, sizeof saved, "%s", before);
    (void)addrpool_version();
    check(strcmp(addrpool_last_error(), saved) == 0, "addrpool_version() leaves the last error alone");

    if (failures == 0) printf("addrpool_version() = %s: ok\n", v);
    return failures == 0 ? 0 : 1;
}
