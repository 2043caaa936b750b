import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { UNAUTHENTICATED_EVENT } from './api/client.js';
import { useReauth } from './composables/useReauth.js';
import { useSession } from './composables/useSession.js';

// Pages load on demand: the sign-in page does not pay for the editor and core's schema.
const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/servers' },
  {
    path: '/login',
    name: 'login',
    component: () => import('./pages/LoginPage.vue'),
    meta: { public: true, title: 'Sign in' },
  },
  {
    path: '/servers',
    name: 'servers',
    component: () => import('./pages/ServersPage.vue'),
    meta: { title: 'Email servers' },
  },
  {
    path: '/servers/new',
    name: 'server-new',
    component: () => import('./pages/ServerEditPage.vue'),
    meta: { title: 'New email server' },
  },
  {
    path: '/servers/:id',
    name: 'server',
    component: () => import('./pages/ServerDetailPage.vue'),
    props: true,
    meta: { title: 'Email server' },
  },
  {
    path: '/servers/:id/edit',
    name: 'server-edit',
    component: () => import('./pages/ServerEditPage.vue'),
    props: true,
    meta: { title: 'Edit email server' },
  },
  {
    path: '/relay',
    name: 'relay',
    component: () => import('./pages/RelayPage.vue'),
    meta: { title: 'SMTP relay' },
  },
  {
    path: '/guide',
    name: 'guide',
    component: () => import('./pages/SetupGuidePage.vue'),
    meta: { title: 'Setup guide' },
  },
  {
    path: '/servers/:id/guide',
    name: 'server-guide',
    component: () => import('./pages/SetupGuidePage.vue'),
    props: true,
    meta: { title: 'Setup guide' },
  },
  {
    path: '/sent',
    name: 'sent',
    component: () => import('./pages/SentLogPage.vue'),
    meta: { title: 'Sent messages' },
  },
  {
    path: '/outbox',
    name: 'outbox',
    component: () => import('./pages/OutboxPage.vue'),
    meta: { title: 'Outbox' },
  },
  {
    path: '/api-keys',
    name: 'api-keys',
    component: () => import('./pages/ApiKeysPage.vue'),
    meta: { title: 'API keys' },
  },
  {
    path: '/audit',
    name: 'audit',
    component: () => import('./pages/AuditPage.vue'),
    meta: { title: 'Audit log' },
  },
  {
    path: '/account',
    name: 'account',
    component: () => import('./pages/AccountPage.vue'),
    meta: { title: 'Account' },
  },
  {
    path: '/admins',
    name: 'admins',
    component: () => import('./pages/AdminsPage.vue'),
    meta: { title: 'Admins' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('./pages/NotFoundPage.vue'),
    meta: { public: true, title: 'Not found' },
  },
];

export function createAppRouter() {
  const router = createRouter({ history: createWebHistory(), routes });
  const session = useSession();

  router.beforeEach(async (to) => {
    if (to.name === 'login') {
      const admin = await session.ensure().catch(() => null);
      return admin ? { path: '/servers' } : true;
    }
    if (to.meta.public) return true;
    const admin = await session.ensure().catch(() => null);
    return admin ? true : { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } };
  });
  router.afterEach((to) => {
    document.title = `${(to.meta.title as string | undefined) ?? 'WebAdmin'} · SMTP OAuth WebAdmin`;
  });

  const reauth = useReauth();
  // Any 401 from the API (session expired, signed out elsewhere) leads back to the sign-in page.
  globalThis.addEventListener?.(UNAUTHENTICATED_EVENT, () => {
    // A page with unsaved work stays: it asks for a sign-in dialog itself and then continues.
    if (reauth.keeping()) return;
    session.expired();
    const current = router.currentRoute.value;
    if (!current.meta.public) void router.push({ name: 'login', query: { redirect: current.fullPath } });
  });
  return router;
}
