/*
 * libFuzzer harness for the record batch validator: the bytes a producer controls
 * completely, checked before anything is written to disk. Each input is a record set
 * as it appears in a Produce request.
 *
 * Besides "never crash, never read outside the input", it checks one invariant: a set
 * that st_batches_validate accepts has a first batch that st_batch_intact (what
 * recovery checks) also accepts, since whatever we append must survive a restart.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size heap copy: ASan then flags a read even one byte past the end. */
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);

    int nbatches = 0;
    int64_t nrecords = 0;
    char why[256];
    int rc = st_batches_validate(copy, size, 1048588, &nbatches, &nrecords, why, sizeof why);
    st_batch_intact(copy, size);

    if (rc == 0) {
        st_batch_info info;
        /* Not assert(): release builds define NDEBUG, and this is what we fuzz for. */
        if (nbatches < 1 || nrecords < nbatches)
            abort();
        if (st_batch_header(copy, size, &info) != 0 || !st_batch_intact(copy, (size_t)info.size))
            abort();
    }
    free(copy);
    return 0;
}
