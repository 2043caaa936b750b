import { computed, ref } from 'vue';
import { type Admin, api, isApiError } from '../api/client.js';

// One session per page: the signed-in admin, shared by the header, the router guard and the pages.
const admin = ref<Admin | null>();
let checking: Promise<Admin | null> | undefined;

/** The signed-in admin; `undefined` until the server was asked once. */
export function useSession() {
  async function refresh(): Promise<Admin | null> {
    checking ??= api
      .me()
      .then((r) => r.admin)
      .catch((e: unknown) => {
        if (isApiError(e) && e.status === 401) return null;
        throw e;
      })
      .then((a) => {
        admin.value = a;
        return a;
      })
      .finally(() => {
        checking = undefined;
      });
    return checking;
  }

  /** Asks the server once per page load; later calls reuse the answer. */
  async function ensure(): Promise<Admin | null> {
    return admin.value === undefined ? refresh() : admin.value;
  }

  async function login(email: string, password: string): Promise<Admin> {
    const result = await api.login(email, password);
    admin.value = result.admin;
    return result.admin;
  }

  async function logout(): Promise<void> {
    try {
      await api.logout();
    } finally {
      admin.value = null;
    }
  }

  /** The server said 401 (session expired or revoked): forget the admin. */
  function expired(): void {
    admin.value = null;
  }

  return { admin: computed(() => admin.value), ensure, refresh, login, logout, expired };
}
