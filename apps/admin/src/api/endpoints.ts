import type { Api } from './http.js';
import type { CreateUserBody, InboxPage, Preset, PublishAccepted, PublishBody, StatsByNode, TranscodeStatusBody, Unread, User, Video } from './types.js';

/** Every API call the console makes, by resource; thin over `Api` so pages stay declarative. */
export function endpointsOf(api: Api) {
  return {
    stats: () => api.get<StatsByNode>('/api/v1/ws/stats', { by_node: true }),

    inbox: (query: { cursor?: number; limit?: number; unread?: boolean; type?: string }) =>
      api.get<InboxPage>('/api/v1/notifications', query),
    markRead: (id: number) => api.post<Unread>(`/api/v1/notifications/${id}/read`),
    markAllRead: () => api.post<Unread>('/api/v1/notifications/read-all'),
    broadcast: (body: PublishBody) => api.post<PublishAccepted>('/api/v1/notifications', body),

    users: async () => {
      const body = await api.get<User[] | { items: User[] }>('/api/v1/users');
      return Array.isArray(body) ? body : body.items;
    },
    createUser: (body: CreateUserBody) => api.post<User>('/api/v1/users', body),
    setAdmin: (id: number | string, isAdmin: boolean) => api.patch<User>(`/api/v1/users/${encodeURIComponent(id)}`, { is_admin: isAdmin }),

    presets: async () => (await api.get<{ presets: Preset[] }>('/api/v1/transcode/presets')).presets,
    videos: async () => (await api.get<{ items: Video[] }>('/api/v1/videos')).items,
    uploadVideo: (file: File, title?: string) => {
      const form = new FormData();
      if (title) form.set('title', title);
      form.set('file', file);
      return api.request<Video>('/api/v1/videos', { method: 'POST', body: form });
    },
    transcode: (id: number, formats: string[]) =>
      api.post<{ job_id: string; video_id: number; formats: string[] }>(`/api/v1/videos/${id}/transcode`, { formats }),
    cancelTranscode: (id: number) => api.post<{ cancelled: boolean }>(`/api/v1/videos/${id}/transcode/cancel`),
    transcodeStatus: (id: number) => api.get<TranscodeStatusBody>(`/api/v1/videos/${id}/transcode-status`),
  };
}

export type Endpoints = ReturnType<typeof endpointsOf>;
