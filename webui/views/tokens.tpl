% rebase('base.tpl', title=_('API tokens'), back_path='/tokens')
% import time
<h1>{{_('API tokens')}}</h1>
<p class="hint">{{_('For programs (a CRM, reports) and wallboard screens. A token acts with its role; the secret is shown once. See the CTI guide for curl examples.')}}</p>
% for err in errors:
<p class="error" role="alert">{{err}}</p>
% end
<form method="post" action="/tokens" class="card" id="new-token">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('Name')}} <input name="name" id="token-name" value="{{form.get('name', '')}}" required></label>
<label>{{_('Role')}} <select name="role" id="token-role">
% for r in roles:
<option value="{{r}}" {{'selected' if form.get('role') == r else ''}}>{{_(r)}}</option>
% end
</select></label>
<label>{{_('Agent (for role agent)')}} <input name="agent" value="{{form.get('agent', '')}}"></label>
<label>{{_('Extension')}} <input name="extension" value="{{form.get('extension', '')}}"></label>
<label>{{_('Valid for (days, empty: no expiry)')}} <input name="days" value="{{form.get('days', '')}}" inputmode="numeric" size="5"></label>
<button type="submit" id="create-token">{{_('Create token')}}</button>
</form>
<table id="tokens">
<thead><tr><th>{{_('Name')}}</th><th>{{_('Token')}}</th><th>{{_('Role')}}</th><th>{{_('Agent')}}</th><th>{{_('Extension')}}</th><th>{{_('Created')}}</th><th>{{_('Last used')}}</th><th>{{_('Expires')}}</th><th></th></tr></thead>
<tbody>
% fmt = lambda e: time.strftime('%Y-%m-%d %H:%M', time.localtime(e)) if e else ''
% for t in rows:
<tr data-token="{{t.name}}" class="{{'muted' if t.revoked else ''}}">
<td>{{t.name}}</td><td><code>{{t.prefix}}…</code></td><td>{{_(t.role)}}</td><td>{{t.agent or ''}}</td><td>{{t.extension or ''}}</td>
<td>{{fmt(t.created)}} {{t.created_by}}</td><td>{{fmt(t.last_used)}}</td><td>{{fmt(t.expires)}}</td>
<td>
% if t.revoked:
{{_('revoked')}}
% else:
<form method="post" action="/tokens/{{t.id}}/revoke" class="inline"><input type="hidden" name="csrf" value="{{ctx.csrf_token}}"><button class="danger" data-confirm="{{_('Revoke this token? Programs using it stop working at once.')}}">{{_('Revoke')}}</button></form>
% end
</td>
</tr>
% end
</tbody>
</table>
