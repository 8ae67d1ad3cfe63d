% rebase('base.tpl', title=_('User'), back_path='/users')
<h1>{{_('Add user') if u is None else _('User') + ' ' + u.name}}</h1>
% for err in errors:
<p class="error" role="alert">{{err}}</p>
% end
<form method="post" action="{{'/users' if u is None else '/users/%d' % u.id}}" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
% if u is None:
<label>{{_('User name')}} <input name="name" id="user-name" value="{{form.get('name', '')}}" required></label>
% else:
<label><input type="checkbox" name="enabled" value="1" {{'checked' if form.get('enabled') else ''}}> {{_('Enabled')}}</label>
% end
<label>{{_('Role')}} <select name="role">
% for r in roles:
<option value="{{r}}" {{'selected' if form.get('role') == r else ''}}>{{_(r)}}</option>
% end
</select></label>
<label>{{_('Language')}} <select name="language">
% for lang in languages:
<option value="{{lang}}" {{'selected' if form.get('language') == lang else ''}}>{{'中文' if lang == 'zh_CN' else 'English'}}</option>
% end
</select></label>
<label>{{_('ACD agent id (agent desk)')}} <input name="agent" id="user-agent" value="{{form.get('agent', '')}}" maxlength="32"></label>
<button type="submit" id="save">{{_('Save')}}</button>
</form>
% if u is not None:
<form method="post" action="/users/{{u.id}}/password" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button type="submit" data-confirm="{{_('Set a new password for this user?')}}">{{_('New password')}}</button>
</form>
<form method="post" action="/users/{{u.id}}/delete" class="card">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<button type="submit" class="danger" data-confirm="{{_('Delete this user?')}}">{{_('Delete')}}</button>
</form>
% end
