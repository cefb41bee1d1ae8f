// keel-workbench: the desktop application. Everything it shows lives in ui/ (keelui) and core/ (keelcore).
#include "application.h"

int main(int argc, char *argv[])
{
    return keel::ui::runWorkbench(argc, argv);
}
