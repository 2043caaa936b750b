/**
 * Signing in again without leaving the page. A page holding unsaved work "keeps" the page; when the
 * session expires then, the router shows a sign-in dialog over it instead of going to the sign-in
 * page, and the work (a save) continues once the admin has signed in.
 */
import { ref } from 'vue';

const open = ref(false);
let keepers = 0;
let waiting: ((signedIn: boolean) => void)[] = [];

export function useReauth() {
  return {
    /** Whether the sign-in dialog is showing. */
    open,
    /** Marks the page as holding unsaved work; call the returned function when it no longer does. */
    keep(): () => void {
      keepers += 1;
      let released = false;
      return () => {
        if (!released) keepers -= 1;
        released = true;
      };
    },
    /** True while some page holds unsaved work. */
    keeping: (): boolean => keepers > 0,
    /** Shows the dialog; resolves `true` once signed in again, `false` if the admin cancels. */
    request(): Promise<boolean> {
      open.value = true;
      return new Promise((resolve) => waiting.push(resolve));
    },
    /** Called by the dialog. */
    finish(signedIn: boolean): void {
      open.value = false;
      const list = waiting;
      waiting = [];
      for (const resolve of list) resolve(signedIn);
    },
  };
}
