/*===- CApiSmoke.c - The C API used from C11 ------------------------------===*\
|*                                                                            *|
|* Compiled as C11 with -pedantic-errors: runtime.h must be plain C. Opens a  *|
|* container, lists its tensors, looks one up and runs matvec; the C++ side   *|
|* (CApiSmokeTest.cpp) writes the file and checks the numbers.                *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "qet/runtime.h"

#include <stdio.h>
#include <string.h>

/* Returns 0, or the line of the first failed step (the message goes to
   `message`). */
int qetSmokeMatvec(const char *path, const char *name, const float *x,
                   size_t x_count, float *y, size_t y_count, char *message,
                   size_t message_size) {
  qet_container *container = NULL;
  qet_tensor *tensor = NULL;
  qet_tensor_info info;
  int64_t count = 0, index;
  int failed = 0, found = 0;
  message[0] = '\0';
  if (qet_container_open(path, &container) != QET_OK) {
    failed = __LINE__;
    goto done;
  }
  if (qet_container_tensor_count(container, &count) != QET_OK) {
    failed = __LINE__;
    goto done;
  }
  for (index = 0; index < count; ++index) {
    if (qet_container_tensor_info(container, index, &info) != QET_OK) {
      failed = __LINE__;
      goto done;
    }
    if (strcmp(info.name, name) == 0)
      found = 1;
  }
  if (!found) {
    failed = __LINE__;
    goto done;
  }
  /* An unknown name is an error code, not a crash. */
  if (qet_tensor_lookup(container, "no such tensor", &tensor) !=
          QET_ERROR_NOT_FOUND ||
      tensor != NULL) {
    failed = __LINE__;
    goto done;
  }
  if (qet_tensor_lookup(container, name, &tensor) != QET_OK) {
    failed = __LINE__;
    goto done;
  }
  if (qet_tensor_matvec(tensor, x, x_count, y, y_count) != QET_OK)
    failed = __LINE__;
done:
  if (failed)
    snprintf(message, message_size, "%s", qet_last_error());
  qet_tensor_release(tensor);
  qet_container_close(container);
  return failed;
}
