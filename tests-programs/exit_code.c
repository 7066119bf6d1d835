/* Exits with the status given as argv[1] (0 without one). */
#include "check.h"

int main(int argc, char **argv) {
    int status = argc > 1 ? atoi(argv[1]) : 0;
    printf("exit_code: exiting with %d\n", status);
    return status;
}
