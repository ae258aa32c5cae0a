import type { HttpClient } from '../http.js';
import type { User, UserData } from '../types.js';

/** `client.users` */
export class UserService {
  constructor(private readonly http: HttpClient) {}

  /** The signed-in user: `GET /v1/user`. */
  aboutMe(): Promise<User> {
    return this.http.get<User>('/v1/user');
  }

  /** The user's UI data: `GET /v1/user/data`. */
  getData(): Promise<UserData> {
    return this.http.get<UserData>('/v1/user/data');
  }
}
