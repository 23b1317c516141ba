/** For other packages' browser tests. */
export { CHROMIUM, launchChromium } from './chromium';
export { answers, interruptGroup } from './processes';
export { REPO_ROOT } from './stack';
