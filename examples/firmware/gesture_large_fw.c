/* gesture_large_fw.c — gesture_fw.c for gesture_large.expr (three full
 * convolutions, 9446 params): the sensor model whose training step needs
 * more RAM than a 64 KB device has. */
#define GESTURE_LARGE 1
#include "gesture_fw.c"
