/* A one-shot wake-up for a thread, set and awaited without the GIL.
 *
 * Why: a group-commit leader wakes every delivery of its batch (imapcore/store/appending.py). With
 * threading.Event the wake-up is a futex call made while holding the GIL, and on a virtual machine
 * waking a thread that sleeps on another CPU costs an inter-processor interrupt: profiled with 16
 * delivering threads, those calls were about a tenth of all the time the GIL was held. cffi releases
 * the GIL around these calls, so the wake-up runs beside the Python work of the other threads.
 *
 * A POSIX semaphore in memory the Python object owns (cffi ``ffi.new``): sem_init at creation; nothing
 * to release on Linux (the semaphore holds no kernel resource while nobody waits on it).
 */
#include <errno.h>
#include <semaphore.h>
#include <time.h>

typedef struct {
    sem_t semaphore;
} imc_wakeup;

int imc_wakeup_init(imc_wakeup *wakeup)
{
    return sem_init(&wakeup->semaphore, 0, 0) == 0 ? 0 : errno;
}

void imc_wakeup_set(imc_wakeup *wakeup)
{
    sem_post(&wakeup->semaphore);
}

/* Wait until set; 0 when set, ETIMEDOUT after ``timeout`` seconds (negative: no limit). Leaves the
 * semaphore set, so that a later wait returns at once too (Event semantics). */
int imc_wakeup_wait(imc_wakeup *wakeup, double timeout)
{
    int result;
    if (timeout < 0) {
        do {
            result = sem_wait(&wakeup->semaphore);
        } while (result != 0 && errno == EINTR);
    } else {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        long seconds = (long)timeout;
        deadline.tv_sec += seconds;
        deadline.tv_nsec += (long)((timeout - (double)seconds) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec += 1;
            deadline.tv_nsec -= 1000000000L;
        }
        do {
            result = sem_timedwait(&wakeup->semaphore, &deadline);
        } while (result != 0 && errno == EINTR);
    }
    if (result != 0) {
        return errno;
    }
    sem_post(&wakeup->semaphore); /* stay set */
    return 0;
}
