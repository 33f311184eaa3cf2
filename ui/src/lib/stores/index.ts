//! The stores the app uses, on the backend picked for where it runs.

import { backend } from '../backend';
import { createStores } from './app';

export const stores = createStores(backend);
export { now } from './app';
export { toasts } from './toasts';
